package oauthtest

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const redacted = "[redacted]"

// Request is what the token endpoint received, for assertions in tests.
// Client secrets and Authorization header values are redacted; a
// client_assertion is kept, so that tests can inspect it.
type Request struct {
	Method     string
	Header     http.Header // Authorization replaced by "Basic [redacted]" etc.
	Form       url.Values  // the POST form; client_secret replaced by "[redacted]"
	ClientID   string      // the client the request named, "" if none
	AuthMethod string      // the method that authenticated it, "" if none did
}

// LastRequest returns the last request that reached the token endpoint; ok
// is false if none did.
func (s *Server) LastRequest() (r Request, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return Request{}, false
	}
	r = *s.last
	r.Header = r.Header.Clone()
	r.Form = cloneValues(r.Form)
	return r, true
}

func (s *Server) record(r *http.Request, clientID string) *Request {
	h := r.Header.Clone()
	if a := h.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		h.Set("Authorization", scheme+" "+redacted)
	}
	form := cloneValues(r.PostForm)
	if form.Has("client_secret") {
		form.Set("client_secret", redacted)
	}
	req := &Request{Method: r.Method, Header: h, Form: form, ClientID: clientID}
	s.mu.Lock()
	s.last = req
	s.mu.Unlock()
	return req
}

// recordMethod notes the authentication method of a recorded request.
func (s *Server) recordMethod(req *Request, method string) {
	s.mu.Lock()
	req.AuthMethod = method
	s.mu.Unlock()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Valid reports whether token was issued by the server, has not expired by
// the server's clock and has not been revoked.
func (s *Server) Valid(token string) bool {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	return ok && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// Revoke makes token invalid.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
}

// RevokeAll makes every token issued so far invalid, refresh tokens
// included, as an administrator revoking every grant does.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
	for _, rt := range s.grants.refresh {
		s.revokeFamily(rt.fam)
	}
}

// RequireToken wraps the handler of a fake backend: a request passes to next
// only with a token that is [Server.Valid]: "Authorization: Bearer <token>"
// for a bearer token, "Authorization: DPoP <token>" with a DPoP proof of the
// key the token is bound to (RFC 9449: htm, htu, ath, a fresh jti, and the
// server's nonce with [WithDPoPNonce]) for a DPoP-bound one. Otherwise it
// answers 401 with a WWW-Authenticate challenge (RFC 6750 §3, RFC 9449 §7):
// error="invalid_token" for a token that is not valid, "use_dpop_nonce"
// (with a DPoP-Nonce header) or "invalid_dpop_proof" for a proof that is
// not right, no error code when there is no token at all. Every token seen
// is recorded (see [Server.SeenTokens]).
func (s *Server) RequireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := authorization(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="oauthtest"`)
			w.Header().Add("WWW-Authenticate", `DPoP algs="ES256 ES384 RS256 PS256"`)
			http.Error(w, "missing access token", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.seen = append(s.seen, tok)
		t, known := s.tokens[tok]
		var jkt string
		if known {
			jkt = t.JKT
		}
		s.mu.Unlock()
		deny := func(challenge, msg string) {
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, msg, http.StatusUnauthorized)
		}
		switch {
		case !s.Valid(tok):
			deny(scheme+` realm="oauthtest", error="invalid_token", error_description="the access token is not valid"`, "invalid token")
			return
		case (jkt != "") != (scheme == "DPoP"):
			deny(scheme+` realm="oauthtest", error="invalid_token", error_description="wrong authorization scheme for this token"`, "invalid token")
			return
		case jkt != "":
			got, err := s.checkProof(r, htu(r), tok)
			if errors.Is(err, errNonce) {
				s.nonceHeader(w.Header())
				deny(`DPoP error="use_dpop_nonce", error_description="a DPoP nonce is required"`, "nonce required")
				return
			}
			if err == nil && got != jkt {
				err = errors.New("the proof's key is not the token's")
			}
			if err != nil {
				deny(`DPoP error="invalid_dpop_proof", error_description="`+strings.ReplaceAll(err.Error(), `"`, "'")+`"`, "invalid proof")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// SeenTokens returns the bearer tokens that [Server.RequireToken] saw, valid
// or not, in the order it saw them.
func (s *Server) SeenTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// authorization reads "Bearer <token>" or "DPoP <token>"; scheme comes out
// as "Bearer" or "DPoP".
func authorization(r *http.Request) (scheme, tok string, ok bool) {
	scheme, tok, ok = strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	switch {
	case !ok || tok == "":
		return "", "", false
	case strings.EqualFold(scheme, "Bearer"):
		return "Bearer", tok, true
	case strings.EqualFold(scheme, "DPoP"):
		return "DPoP", tok, true
	}
	return "", "", false
}
