package oauthclient

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzLoginResponse feeds a login endpoint's answers to the parser: it
// never panics, a token it returns is one the answer held at the path, its
// expiry is in the future and within maxLifetime, and no error shows the
// password or the API key, even when the answer echoes them.
func FuzzLoginResponse(f *testing.F) {
	const password, apiKey = "pa55-Word_with+sym/bols", "api-key-7f3c9a"
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `{"data":{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE5MDAwMDAwMDB9.c2ln","expiresIn":3600}}`},
		{200, `{"data":{"jwt":"opaque","expiresAt":"2026-03-01T10:30:00Z"}}`},
		{200, `{"data":{"jwt":"opaque","expiresAt":1772361000}}`},
		{200, `{"data":{"jwt":"opaque","expiresAt":1772361000000}}`},
		{200, `{"data":{"jwt":"opaque","expiresIn":"soon"}}`},
		{200, `{"data":{"jwt":["a"]}}`},
		{200, `{"data":[{"jwt":"x"}]}`},
		{200, `[]`},
		{200, `null`},
		{200, `<html>`},
		{401, `{"message":"invalid credentials for pa55-Word_with+sym/bols"}`},
		{500, `{"echo":{"X-Api-Key":"api-key-7f3c9a","password":"pa55-Word_with+sym/bols"}}`},
		{429, `slow down`},
	} {
		f.Add(seed.status, seed.body, "data.jwt")
	}
	f.Fuzz(func(t *testing.T, status int, body, path string) {
		if status < 100 || status > 999 || path == "" || strings.Contains(path, "..") || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") {
			return
		}
		lf := &loginFetcher{cfg: Config{Name: "vendor", DefaultLifetime: time.Hour},
			g: Login{TokenPath: path, ExpiresInPath: "data.expiresIn", ExpiresAtPath: "data.expiresAt"},
			w: &loginWire{secrets: []string{password, apiKey}}, now: func() time.Time { return fuzzNow }}
		tok, err := lf.parse(status, http.Header{"Retry-After": {"5"}}, []byte(body))
		if err != nil {
			for _, s := range []string{password, apiKey} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error shows a secret: %v", err)
				}
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("a %d answer gave a token", status)
		}
		if !strings.Contains(body, tok.AccessToken()) || !validToken(tok.AccessToken()) {
			t.Fatalf("token %q is not from the answer", tok.AccessToken())
		}
		if !tok.Expiry().After(fuzzNow) || tok.Expiry().After(fuzzNow.Add(maxLifetime)) {
			t.Fatalf("expiry %s out of range", tok.Expiry())
		}
	})
}
