package oauthtest

import (
	"crypto/rand"
	"encoding/json"
	"mime"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
)

// loginPath is the path of the login endpoint.
const loginPath = "/api/login"

// LoginURL returns the URL of the login endpoint.
func (s *Server) LoginURL() string { return s.base + loginPath }

// AddLoginUser registers a user of the login endpoint, a vendor login
// that is not OAuth: a POST of a JSON object (or a form) with "username"
// and "password" answers
// {"status":"ok","data":{"jwt":"<token>"}} — the token a JWT whose only
// lifetime is its exp claim, valid for [Server.RequireToken] as a bearer
// token. Wrong credentials get a 401 with {"message":"invalid credentials"},
// which is no OAuth error. The endpoint counts requests under the
// username and shares FailNext and SetLatency with the token endpoint.
func (s *Server) AddLoginUser(username, password string) {
	s.mu.Lock()
	s.grants.logins[username] = password
	s.mu.Unlock()
}

func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	var creds struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var bad bool
	switch {
	case r.Method != http.MethodPost:
		bad = true
	case mt == "application/json":
		bad = json.NewDecoder(r.Body).Decode(&creds) != nil
	default:
		bad = r.ParseForm() != nil
		creds.Username, creds.Password = r.PostForm.Get("username"), r.PostForm.Get("password")
	}
	s.count(creds.Username)
	if !s.wait(r.Context()) {
		return
	}
	if f, ok := s.nextFailure(); ok {
		f.write(w)
		return
	}
	if bad {
		jsonResponse(http.StatusBadRequest, map[string]string{"message": "a POST of a JSON object with username and password"}).write(w)
		return
	}
	s.mu.Lock()
	pw, ok := s.grants.logins[creds.Username]
	key := s.grants.loginKey
	s.mu.Unlock()
	if !ok || !equal(pw, creds.Password) {
		jsonResponse(http.StatusUnauthorized, map[string]string{"message": "invalid credentials"}).write(w)
		return
	}
	now := s.clock()
	t := Token{ClientID: creds.Username, Subject: creds.Username, Grant: "login", IssuedAt: now}
	s.mu.Lock()
	life := s.lifetime
	s.mu.Unlock()
	claims := jwt.MapClaims{"sub": creds.Username, "iat": now.Unix(), "jti": rand.Text()}
	if life > 0 {
		t.Expiry = now.Add(life)
		claims["exp"] = t.Expiry.Unix()
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	t.AccessToken = signed
	s.mu.Lock()
	s.tokens[signed] = &t
	s.mu.Unlock()
	jsonResponse(http.StatusOK, map[string]any{"status": "ok", "data": map[string]any{"jwt": t.AccessToken}}).write(w)
}
