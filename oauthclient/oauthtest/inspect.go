package oauthtest

import (
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

// RevokeAll makes every token issued so far invalid.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// RequireToken wraps the handler of a fake backend: a request passes to next
// only with an "Authorization: Bearer" token that is [Server.Valid].
// Otherwise it answers 401 with a WWW-Authenticate challenge (RFC 6750 §3):
// error="invalid_token" for a token that is not valid, no error code when
// there is no bearer token at all. Every bearer token seen is recorded (see
// [Server.SeenTokens]).
func (s *Server) RequireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="oauthtest"`)
			http.Error(w, "missing bearer token", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.seen = append(s.seen, tok)
		s.mu.Unlock()
		if !s.Valid(tok) {
			w.Header().Set("WWW-Authenticate",
				`Bearer realm="oauthtest", error="invalid_token", error_description="the access token is not valid"`)
			http.Error(w, "invalid bearer token", http.StatusUnauthorized)
			return
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

func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}
