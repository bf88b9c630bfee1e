package oauthtest

import (
	"crypto/rand"
	"net"
	"net/http"
	"net/url"
)

// authorizePath is the path of the authorization endpoint.
const authorizePath = "/oauth2/authorize"

// AuthorizeURL returns the URL of the authorization endpoint.
func (s *Server) AuthorizeURL() string { return s.base + authorizePath }

// serveAuthorize is the authorization endpoint of the code grant (RFC 6749
// §4.1.1) for native programs: a registered client, a loopback redirect
// (RFC 8252 §7.3: http on 127.0.0.1 or [::1], any port), a PKCE challenge
// with method S256 (RFC 7636; plain is refused) and allowed scopes. Every
// request is approved at once, by the client's Subject: the
// answer redirects to redirect_uri with the code and the state. A request
// with a redirect that cannot be trusted is answered 400 without a
// redirect; other errors redirect with error and state (RFC 6749 §4.1.2.1).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	s.total.Add(1)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed request", http.StatusBadRequest)
		return
	}
	q := r.Form
	c := s.lookup(q.Get("client_id"))
	redirect := q.Get("redirect_uri")
	if c == nil {
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	}
	if !loopback(redirect) {
		http.Error(w, "redirect_uri must be a loopback redirect (http://127.0.0.1:port/… or http://[::1]:port/…)", http.StatusBadRequest)
		return
	}
	fail := func(code, desc string) {
		u, _ := url.Parse(redirect)
		v := u.Query()
		v.Set("error", code)
		v.Set("error_description", desc)
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	case q.Get("code_challenge") == "":
		fail("invalid_request", "code_challenge is required (PKCE)")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	}
	scope, ok := grantScope(c.scopes, q.Get("scope"))
	if !ok {
		fail("invalid_scope", "a requested scope is not allowed for this client")
		return
	}
	code := rand.Text()
	s.mu.Lock()
	s.grants.codes[code] = &authCode{clientID: c.id, redirectURI: redirect, challenge: q.Get("code_challenge"), scope: scope,
		subject: c.subject, expiry: s.now().Add(codeLifetime)}
	s.mu.Unlock()
	u, _ := url.Parse(redirect)
	v := u.Query()
	v.Set("code", code)
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// loopback reports whether u is a loopback redirect of RFC 8252 §7.3.
func loopback(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.User != nil || p.Fragment != "" {
		return false
	}
	ip := net.ParseIP(p.Hostname())
	return ip != nil && ip.IsLoopback()
}
