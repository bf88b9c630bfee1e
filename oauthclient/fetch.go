package oauthclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// maxBody bounds how much of a token response is read.
const maxBody = 1 << 20

// Fetcher obtains a new token from wherever tokens come from. The source
// built by [NewSource] uses the definition's [Grant]; [FromOAuth2] adapts
// any oauth2.TokenSource.
type Fetcher interface {
	Fetch(ctx context.Context) (*Token, error)
}

// FetcherFunc adapts a function to [Fetcher].
type FetcherFunc func(ctx context.Context) (*Token, error)

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context) (*Token, error) { return f(ctx) }

// FromOAuth2 adapts an oauth2.TokenSource (which takes no context) to a
// [Fetcher]. A token without expiry gets an hour.
func FromOAuth2(ts oauth2.TokenSource) Fetcher {
	return FetcherFunc(func(context.Context) (*Token, error) {
		o, err := ts.Token()
		if err != nil {
			return nil, err
		}
		return fromOAuth2(o, time.Now(), defaultLifetime), nil
	})
}

// tokenEndpoint performs the token requests of a definition's grant
// (client credentials, JWT bearer, token exchange, refresh token) with its
// client authentication, DPoP proofs and discovered endpoint.
type tokenEndpoint struct {
	cfg      Config
	grant    endpointGrant
	auth     clientAuth
	hc       *http.Client
	now      func() time.Time
	insecure bool        // plain-http endpoints allowed (tests)
	disc     *discovery  // when the token endpoint comes from Config.DiscoveryURL
	dpop     *dpopProver // when the definition uses DPoP
}

// Fetch prepares a request of the grant and sends it.
func (c *tokenEndpoint) Fetch(ctx context.Context) (*Token, error) {
	p, err := c.grant.prepare(ctx)
	if err != nil {
		return nil, err
	}
	return c.fetchPrepared(ctx, p)
}

// fetchPrepared sends the request p describes (through the grant, for one
// that keeps state), within the definition's timeout.
func (c *tokenEndpoint) fetchPrepared(ctx context.Context, p *prepared) (*Token, error) {
	ctx, cancel := context.WithTimeout(withCert(ctx, p.cert), c.cfg.Timeout)
	defer cancel()
	if sg, ok := c.grant.(statefulGrant); ok {
		return sg.wrap(ctx, p, c.send)
	}
	return c.send(ctx, p)
}

// send finds the token endpoint and sends p's request, once more with the
// server's DPoP nonce when it asks for one.
func (c *tokenEndpoint) send(ctx context.Context, p *prepared) (*Token, error) {
	tokenURL, err := c.tokenURL(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := c.request(ctx, tokenURL, p)
	if c.dpop != nil && errors.Is(err, errUseDPoPNonce) {
		var e *Error
		if errors.As(err, &e) && e.Header.Get("DPoP-Nonce") != "" {
			tok, err = c.request(ctx, tokenURL, p) // once, with the nonce the server named
		}
	}
	return tok, err
}

// request sends one token request, authenticated anew (a fresh assertion
// and DPoP proof each time).
func (c *tokenEndpoint) request(ctx context.Context, tokenURL string, p *prepared) (*Token, error) {
	tr := &tokenRequest{TokenURL: tokenURL, ClientID: c.cfg.ClientID, Form: c.form(p), Header: http.Header{}}
	secrets := slices.Clone(p.secrets)
	if p.sign != nil {
		signed, err := p.sign(tokenURL, tr.Form)
		if err != nil {
			return nil, fmt.Errorf("security definition %q: %w", c.cfg.Name, err)
		}
		secrets = append(secrets, signed)
	}
	if err := c.auth.Authenticate(ctx, tr); err != nil {
		return nil, fmt.Errorf("security definition %q: client authentication: %w", c.cfg.Name, err)
	}
	if p.wrote != nil {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				p.wrote.Store(true)
			}
		}})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(tr.Form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("security definition %q: %w", c.cfg.Name, err)
	}
	if c.dpop != nil {
		proof, err := c.dpop.proof(http.MethodPost, req.URL, "")
		if err != nil {
			return nil, fmt.Errorf("security definition %q: signing a DPoP proof: %w", c.cfg.Name, err)
		}
		tr.Header.Set("DPoP", proof)
	}
	req.Header = tr.Header.Clone()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		// A transport may echo what it was sent (a proxy quoting the body).
		cause := scrubCause(redact.URLCause(err), append(append(secrets, c.secrets(tr)...), redact.Sent(req)...))
		return nil, fmt.Errorf("security definition %q: token request: %w", c.cfg.Name, cause)
	}
	defer resp.Body.Close()
	if c.dpop != nil {
		c.dpop.noteNonce(req.URL, resp.Header)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("security definition %q: reading token response: %w", c.cfg.Name, err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: body}
	tok, err := parseResponse(c.cfg.Name, r, c.now(), c.cfg.DefaultLifetime, append(secrets, c.secrets(tr)...)...)
	if err != nil {
		return nil, askedOf(err, req.URL)
	}
	return tok.capped(p.notAfter), nil
}

// tokenURL returns the configured token endpoint or discovers it.
func (c *tokenEndpoint) tokenURL(ctx context.Context) (string, error) {
	switch {
	case c.cfg.TokenURL != "":
		return c.cfg.TokenURL, nil
	case c.disc != nil:
		return c.disc.tokenURL(ctx)
	}
	u, err := c.cfg.TokenURLFunc(ctx)
	if err != nil {
		return "", fmt.Errorf("security definition %q: finding the token endpoint: %w", c.cfg.Name, err)
	}
	if err := c.cfg.checkURL("token_url", u, c.insecure); err != nil {
		return "", err
	}
	return u, nil
}

// form is the request's form: the grant's fields, then the scope,
// audience, resources and extra parameters of the definition.
func (c *tokenEndpoint) form(p *prepared) url.Values {
	f := make(url.Values, len(p.form)+4)
	for k, vs := range p.form {
		f[k] = slices.Clone(vs)
	}
	if len(c.cfg.Scopes) > 0 {
		f.Set("scope", strings.Join(c.cfg.Scopes, " "))
	}
	if c.cfg.Audience != "" {
		f.Set("audience", c.cfg.Audience)
	}
	for _, r := range c.cfg.Resources {
		f.Add("resource", r)
	}
	for k, v := range c.cfg.Params {
		f.Add(k, v.Reveal())
	}
	return f
}

// publicForm lists the token request's form fields that are no secret.
var publicForm = map[string]bool{"grant_type": true, "scope": true, "audience": true, "resource": true,
	"client_id": true, "client_assertion_type": true, "subject_token_type": true, "actor_token_type": true,
	"requested_token_type": true, "redirect_uri": true}

// secrets lists what must never be echoed: the secret and the assertion.
func (c *tokenEndpoint) secrets(tr *tokenRequest) []string {
	var s []string
	for k, vs := range tr.Form { // whatever the client authentication added
		if !publicForm[k] {
			s = append(s, vs...)
		}
	}
	for _, vs := range tr.Header {
		s = append(s, vs...)
	}
	if so, ok := c.auth.(secretsOf); ok {
		s = append(s, so.secrets()...)
	}
	return s
}

// httpClient returns the client for token calls: a copy of the given one
// (or a new one) that never follows redirects, with the TLS settings the
// definition needs (root CAs, and the client certificate of certs, always
// presented, over a connection of its own: see certConns).
func httpClient(cfg Config, certs *clientCerts, base *http.Client) (*http.Client, error) {
	hc := &http.Client{}
	if base != nil {
		*hc = *base
	}
	hc.CheckRedirect = noRedirect // credentials are never re-sent elsewhere
	if certs == nil && cfg.RootCAs == nil {
		return hc, nil
	}
	var t *http.Transport
	switch bt := hc.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = bt.Clone()
	default:
		return nil, &ConfigError{Definition: cfg.Name, Field: "certificate",
			Reason: fmt.Sprintf("client certificates and root CAs need an *http.Transport in Options.HTTPClient, not %T", bt)}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.TLSClientConfig != nil {
		tc = t.TLSClientConfig.Clone()
	}
	if cfg.RootCAs != nil {
		tc.RootCAs = cfg.RootCAs
	}
	t.TLSClientConfig = tc
	if certs != nil {
		hc.Transport = newCertConns(certs, t)
		return hc, nil
	}
	hc.Transport = t
	return hc, nil
}

// noRedirect makes a redirect from a token endpoint an answer, not a hop:
// credentials are never re-sent to wherever it points.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// scrubCause returns err, or an error with its text scrubbed of secrets
// (errors.Is and errors.As still reach err) when the text held one.
func scrubCause(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	if msg := scrub(err.Error(), secrets); msg != err.Error() {
		return &scrubbedError{msg: msg, err: err}
	}
	return err
}

// scrubbedError is an error whose text had secrets blanked out.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
