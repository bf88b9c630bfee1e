package oauthclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Secrets the fuzzer may weave into response bodies: a client secret and a
// signed client assertion, as a misbehaving server would echo them.
const (
	fuzzSecret    = "Zq8-client-Secret_w1th+sym/bols=="
	fuzzAssertion = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJjcm0ifQ.c2lnbmF0dXJlLXNlY3JldA"
)

var fuzzNow = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func FuzzParseResponse(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"access_token":"abc","token_type":"Bearer","expires_in":3600,"scope":"read"}`},
		{200, "application/json;charset=UTF-8", `{"access_token":"abc","token_type":"bearer","expires_in":"3600"}`},
		{200, "application/json", `{"access_token":"abc","expires_in":3599.5}`},
		{200, "application/json", `{"access_token":"abc","expires_in":1e400}`},
		{200, "application/json", `{"access_token":"abc","expires_in":99999999999999999999999}`},
		{200, "application/json", `{"access_token":"abc","expires_in":"1e-10"}`},
		{200, "application/json", `{"access_token":"abc","expires_in":-5}`},
		{200, "application/json", `{"access_token":"abc","expires_in":"soon"}`},
		{200, "application/json", `{"access_token":"abc","expires_in":null}`},
		{200, "application/json", `{"access_token":"abc","expires_in":true}`},
		{200, "application/json", `{"access_token":"abc","token_type":"BearerToken","expires_in":"3599"}`},
		{200, "application/json", `{"access_token":"abc"}`},
		{200, "application/json", `{"access_token":""}`},
		{200, "application/json", `{"access_token":42}`},
		{200, "text/plain", `{"access_token":"abc","expires_in":60}`},
		{200, "application/x-www-form-urlencoded", `access_token=abc&token_type=bearer&expires_in=3600`},
		{200, "text/plain", `access_token=abc&expires_in=3600`},
		{200, "text/html", `access_token=abc&expires_in=NaN`},
		{200, "text/html", `<html><body>502 Bad Gateway</body></html>`},
		{502, "text/html", `<html>proxy error ` + fuzzSecret + `</html>`},
		{200, "", ``},
		{204, "", `   `},
		{200, "application/json", `{"error":"invalid_client","error_description":"bad secret ` + fuzzSecret + `"}`},
		{400, "application/json", `{"error":"invalid_scope","error_uri":"https://as.test/e?client_secret=` + fuzzSecret + `"}`},
		{401, "application/json", `{"error":"` + fuzzSecret + `"}`},
		{400, "application/x-www-form-urlencoded", `error=invalid_request&error_description=client_assertion%3D` + fuzzAssertion},
		{500, "text/plain", `internal error: client_secret=` + fuzzSecret + ` assertion=` + fuzzAssertion},
		{200, "application/json", `{"access_token":"abc","expires_in":"` + fuzzSecret + `"}`},
		{200, "application/json", `{"access_token":"abc",`},
		{200, "application/octet-stream", "\x00\xff\xfe garbage"},
		{429, "application/json", `{"error":"slow_down"}`},
		{200, "application/json", `[{"access_token":"abc"}]`},
		{200, "text/plain", `access_token=abc&expires=5183999`},
		{200, "text/plain", `access_token=abc&expires=1772360000`},
		{200, "application/json", `{"access_token":"abc","expires":"2026-03-01T10:00:00Z"}`},
		{200, "application/json", `{"access_token":"eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjE3NzIzNTk4MDB9.c2ln"}`},
		{200, "application/json", `{"access_token":"a.eyJleHAiOiJzb29uIn0.c"}`},
		{400, "application/json", `{"error":"use_dpop_nonce"}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, []byte(s.body), `DPoP error="use_dpop_nonce"`)
	}
	f.Add(401, "application/json", []byte(`{"error":"invalid_client"}`), `Basic realm="`+fuzzSecret+`"`)
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, challenge string) {
		r := response{status: status, header: http.Header{"Content-Type": {contentType}, "Www-Authenticate": {challenge},
			"Dpop-Nonce": {challenge}, "Retry-After": {challenge}}, body: body}
		tok, err := parseResponse("fuzz", r, fuzzNow, defaultLifetime, fuzzSecret, fuzzAssertion)
		if err != nil {
			if tok != nil {
				t.Fatalf("both a token and an error: %v", err)
			}
			checkNoSecret(t, err, contentType)
			var e *Error
			if errors.As(err, &e) && !strings.Contains(contentType, fuzzSecret) {
				for _, vs := range e.Header {
					for _, v := range vs {
						if strings.Contains(v, fuzzSecret) || strings.Contains(v, fuzzAssertion) {
							t.Fatalf("a secret in a kept header: %q", v)
						}
					}
				}
			}
			return
		}
		if tok == nil {
			t.Fatal("neither a token nor an error")
		}
		if tok.AccessToken() == "" {
			t.Fatal("token with an empty access token")
		}
		if !tok.Expiry().After(fuzzNow) {
			t.Fatalf("expiry %v not after now %v", tok.Expiry(), fuzzNow)
		}
		if tok.Expiry().After(fuzzNow.Add(maxLifetime)) {
			t.Fatalf("expiry %v beyond maxLifetime", tok.Expiry())
		}
	})
}

// checkNoSecret fails if a secret appears in any rendering of err. The
// Content-Type header is echoed on purpose (it tells what came back), so a
// secret placed there by the fuzzer is not a leak of the request.
func checkNoSecret(t *testing.T, err error, contentType string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not an *Error", err)
	}
	for _, sec := range []string{fuzzSecret, fuzzAssertion} {
		if strings.Contains(contentType, sec) {
			continue
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", *e)} {
			if strings.Contains(s, sec) {
				t.Fatalf("secret leaked: %s", s)
			}
		}
	}
}
