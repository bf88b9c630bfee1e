package oauthclient

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokenwire/tokenwire/internal/origin"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// anyOrigin ("*"), given as an origin, lets a transport attach tokens to every
// https host (and http ones with AllowInsecureHTTP). It gives up the protection against leaking tokens to foreign hosts:
// use it only when the base transport is itself restricted.
const anyOrigin = "*"

// Transport is an http.RoundTripper that attaches the source's token to
// requests for its origins, and only those: a redirect to another host, or
// any other request, goes out without it. On a 401 it invalidates the token
// it sent and retries once with a fresh one when the request body can be
// replayed. The caller's request is never modified.
//
// For a definition with a client certificate (Config.Certificate or
// CertFile), the transport presents that certificate to the resource
// server: over base nil, or an *http.Transport that presents none of its
// own, each certificate gets a clone of base, so that a token goes out over
// a connection presenting the certificate it was fetched with (after a
// rotation too). A base *http.Transport presenting a fixed certificate of
// its own keeps it; if the definition authenticates with its certificate
// (tls_client_auth, self_signed_tls_client_auth), its tokens are bound to
// it, and a request whose token is bound to another fails with
// [ErrCertificateMismatch] before it leaves. A base that sets
// GetClientCertificate, or is not an *http.Transport, is trusted to present
// the right one. This is where tokenwire decides which certificate a
// connection presents, a rest connection's included.
type Transport struct {
	src     *Source
	base    http.RoundTripper
	origins []origin.Origin
	any     bool
	conns   *certConns // presents each token's certificate; nil when base presents its own
	fixed   string     // hex SHA-256 of the certificate base presents, checked against bound tokens
}

// NewTransport returns a transport over base (http.DefaultTransport when
// nil) attaching src's tokens to the given origins ("https://api.example.com"
// or "https://api.example.com:8443"; a path is ignored; "*" for every
// https host, which gives up the protection against leaking tokens to
// foreign hosts: use it only when base is itself restricted).
func NewTransport(src *Source, base http.RoundTripper, origins ...string) (*Transport, error) {
	if src == nil {
		return nil, errors.New("oauthclient: NewTransport: nil source")
	}
	if len(origins) == 0 {
		return nil, fmt.Errorf("security definition %q: transport needs at least one origin", src.name)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	t := &Transport{src: src, base: base}
	t.presenting(base)
	for _, o := range origins {
		if o == anyOrigin {
			t.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("security definition %q: origin %q is not an absolute http(s) URL", src.name, o)
		}
		if u.Scheme == "http" && !src.insecureOK {
			return nil, fmt.Errorf("security definition %q: origin %q: plain http would send tokens in clear (allowed only with AllowInsecureHTTP, for tests)", src.name, o)
		}
		t.origins = append(t.origins, origin.New(u))
	}
	return t, nil
}

// presenting makes t present its definition's certificate over base (see
// [Transport]) or notes the one base presents.
func (t *Transport) presenting(base http.RoundTripper) {
	if t.src.certs == nil {
		return
	}
	bt, ok := base.(*http.Transport)
	if !ok {
		return
	}
	tc := bt.TLSClientConfig
	switch {
	case tc == nil || (len(tc.Certificates) == 0 && tc.GetClientCertificate == nil):
		t.conns = newCertConns(t.src.certs, bt)
	case tc.GetClientCertificate == nil:
		t.fixed = certThumbprint(&tc.Certificates[0])
	}
}

// CloseIdleConnections closes the idle connections of the transports
// under t (base, and the clones presenting the definition's certificate),
// so that http.Client.CloseIdleConnections reaches them.
func (t *Transport) CloseIdleConnections() {
	if t.conns != nil {
		t.conns.CloseIdleConnections()
	}
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// NewClient returns an *http.Client whose transport is NewTransport(src,
// nil, origins...).
func NewClient(src *Source, origins ...string) (*http.Client, error) {
	t, err := NewTransport(src, nil, origins...)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t}, nil
}

// allowed reports, without allocating, whether u is one of the origins.
func (t *Transport) allowed(u *url.URL) bool {
	if t.any {
		return t.src.insecureOK || strings.EqualFold(u.Scheme, "https")
	}
	for _, o := range t.origins {
		if o.Match(u) {
			return true
		}
	}
	return false
}

// Format prints the transport's definition and origins whatever the verb:
// fmt reaches neither the source's credentials nor, racing with the
// connections in use, the base transport's state.
func (t *Transport) Format(f fmt.State, _ rune) {
	redact.Format(f, fmt.Sprintf("oauthclient.Transport(%s %v)", t.src.name, t.origins))
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.allowed(req.URL) {
		return t.base.RoundTrip(req)
	}
	tok, err := t.src.transportToken(req.Context())
	if err != nil {
		closeBody(req)
		return nil, noTokenError{err}
	}
	if t.fixed != "" && t.src.certBound() && tok.cert != nil && tok.cert.x5t != t.fixed {
		closeBody(req)
		return nil, &certificateError{definition: t.src.name, presented: t.fixed}
	}
	resp, used, err := t.send(req, tok, false)
	if err == nil && t.dpopBound(tok) && resp.StatusCode == http.StatusUnauthorized && nonceChallenge(resp) {
		// The resource server wants a nonce it sent; the token is fine (RFC
		// 9449 §9): prove again, once, if the nonce is not the one used.
		if n := resp.Header.Get("DPoP-Nonce"); n == "" || n == used || !replayable(req) {
			return resp, nil
		}
		discard(resp)
		t.src.resent(req, reasonDPoPNonce)
		if resp, _, err = t.send(req, tok, true); err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && nonceChallenge(resp) {
			return resp, nil // not the token's fault either
		}
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if !replayable(req) {
		t.src.Invalidate(tok) // the next request gets a fresh token
		return resp, nil
	}
	return t.retry(req, tok, resp)
}

// send sends req with tok (and, for a DPoP-bound token, a fresh proof)
// through the base transport; again is true for a resend, whose body comes
// from GetBody. It notes the DPoP nonce of the response and returns the
// nonce the proof carried.
func (t *Transport) send(req *http.Request, tok *Token, again bool) (*http.Response, string, error) {
	sent := withToken(req, tok)
	if again && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, "", err
		}
		sent.Body = body
	}
	var nonce string
	if t.dpopBound(tok) {
		proof, n, err := t.src.dpop.proofNonce(req.Method, req.URL, tok.cred.access)
		if err != nil {
			closeBody(sent)
			return nil, "", fmt.Errorf("security definition %q: signing a DPoP proof: %w", t.src.name, err)
		}
		sent.Header["Dpop"] = []string{proof}
		nonce = n
	}
	rt := t.base
	if t.conns != nil {
		rt = t.conns.forCert(tok.cert)
	}
	resp, err := rt.RoundTrip(sent)
	if resp != nil {
		if resp.Request == nil {
			resp.Request = sent // the request sent: errors scrub the token it carried
		}
		if t.dpopBound(tok) {
			t.src.dpop.noteNonce(req.URL, resp.Header)
		}
	}
	return resp, nonce, err
}

// certBound reports whether s's tokens are bound to its certificate: it
// authenticates with it.
func (s *Source) certBound() bool {
	return s.certs != nil && (s.method == AuthTLSClientAuth || s.method == AuthSelfSignedTLS)
}

// dpopBound reports whether tok goes out with DPoP proofs.
func (t *Transport) dpopBound(tok *Token) bool { return t.src.dpop != nil && tok.cred.dpop }

// retry handles a 401: drop tok, get a fresh token, send once more. If no
// fresh token can be had, the original 401 is returned.
func (t *Transport) retry(req *http.Request, tok *Token, resp *http.Response) (*http.Response, error) {
	t.src.Invalidate(tok)
	fresh, err := t.src.TokenContext(req.Context())
	if err != nil || fresh.cred.access == tok.cred.access {
		return resp, nil
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil
	}
	discard(resp)
	t.src.resent(req, reasonUnauthorized)
	resp2, _, err := t.send(req, fresh, true)
	return resp2, err
}

// The reasons of a resend.
const (
	reasonUnauthorized = "unauthorized" // a 401: the token was rejected, a fresh one is sent
	reasonDPoPNonce    = "dpop_nonce"   // a 401 use_dpop_nonce challenge: the same token, a new proof
)

// resent counts, traces and logs a resend of req for reason.
func (s *Source) resent(req *http.Request, reason string) {
	ctx := req.Context()
	s.counts.resends.Add(1)
	s.tel.resent(ctx, reason)
	level, msg := slog.LevelInfo, "oauthclient: the backend rejected the token (401); resending once with a fresh one"
	if reason == reasonDPoPNonce {
		level, msg = slog.LevelDebug, "oauthclient: the backend asked for a DPoP nonce; resending once with a new proof"
	}
	s.opts.Logger.LogAttrs(ctx, level, msg, slog.String("definition", s.name), slog.String("method", req.Method),
		slog.String("host", req.URL.Host))
}

// discard drains a little of a response that is answered by a resend, so
// that its connection can be reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

// withToken is a shallow copy of req with its own header map carrying the
// token; the caller's request is left as it was.
func withToken(req *http.Request, tok *Token) *http.Request {
	r := new(http.Request)
	*r = *req
	h := make(http.Header, len(req.Header)+2)
	for k, v := range req.Header {
		h[k] = v
	}
	h["Authorization"] = tok.cred.header
	r.Header = h
	return r
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
