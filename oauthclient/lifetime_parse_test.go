package oauthclient

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeJWT is an unsigned JWT-shaped access token with the given claims.
func fakeJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"at+jwt"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

// When expires_in is absent, the legacy "expires" or the exp claim of a
// JWT access token says how long the token lives; never past maxLifetime,
// and a token that does not parse as a JWT stays opaque (the default).
func TestLifetimeWithoutExpiresIn(t *testing.T) {
	in := func(d time.Duration) int64 { return t0.Add(d).Unix() }
	for _, tc := range []struct {
		name, ctype, body string
		want              time.Duration
	}{
		{"legacy form expires", "text/plain", `access_token=a1&expires=604799`, 604799 * time.Second},
		{"json expires is not the legacy form", "application/json", `{"access_token":"a1","expires":"600"}`, 42 * time.Minute},
		{"json expires as a date", "application/json", `{"access_token":"a1","expires":"2026-03-01T10:00:00Z"}`, 42 * time.Minute},
		{"form expires as a timestamp", "text/plain", `access_token=a1&expires=1772360000`, 42 * time.Minute},
		{"form expires not a number", "text/plain", `access_token=a1&expires=soon`, 42 * time.Minute},
		{"expires_in wins", "text/plain", `access_token=a1&expires_in=60&expires=600`, time.Minute},
		{"jwt exp", "application/json", fmt.Sprintf(`{"access_token":%q}`, fakeJWT(fmt.Sprintf(`{"sub":"s","exp":%d}`, in(15*time.Minute)))), 15 * time.Minute},
		{"jwt exp past max", "application/json", fmt.Sprintf(`{"access_token":%q}`, fakeJWT(`{"exp":99999999999}`)), maxLifetime},
		{"jwt expired", "application/json", fmt.Sprintf(`{"access_token":%q}`, fakeJWT(fmt.Sprintf(`{"exp":%d}`, in(-time.Minute)))), 42 * time.Minute},
		{"jwt without exp", "application/json", fmt.Sprintf(`{"access_token":%q}`, fakeJWT(`{"sub":"s"}`)), 42 * time.Minute},
		{"jwt exp not a number", "application/json", fmt.Sprintf(`{"access_token":%q}`, fakeJWT(`{"exp":"soon"}`)), 42 * time.Minute},
		{"three parts, not base64", "application/json", `{"access_token":"a.b!.c"}`, 42 * time.Minute},
		{"three parts, not JSON", "application/json", fmt.Sprintf(`{"access_token":"a.%s.c"}`, base64.RawURLEncoding.EncodeToString([]byte("nope"))), 42 * time.Minute},
		{"expires_in beats jwt", "application/json", fmt.Sprintf(`{"access_token":%q,"expires_in":30}`, fakeJWT(fmt.Sprintf(`{"exp":%d}`, in(time.Hour)))), 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := response{status: 200, header: http.Header{"Content-Type": {tc.ctype}}, body: []byte(tc.body)}
			tok, err := parseResponse("crm", r, t0, 42*time.Minute)
			require.NoError(t, err)
			assert.Equal(t, t0.Add(tc.want), tok.Expiry())
		})
	}
	r := response{status: 200, header: http.Header{}, body: []byte(`{"access_token":"a1","expires_in":"soon"}`)}
	_, err := parseResponse("crm", r, t0, time.Hour)
	require.ErrorIs(t, err, ErrMalformedResponse)
	assert.ErrorContains(t, err, `expires_in: "soon" is not a number`)
}

// An *Error keeps the headers a caller needs to react, scrubbed; no other.
func TestErrorKeepsChallengeHeaders(t *testing.T) {
	h := http.Header{"Www-Authenticate": {`DPoP error="use_dpop_nonce", realm="s3cret-client-pw"`}, "Dpop-Nonce": {"n-1"},
		"Retry-After": {"3"}, "Set-Cookie": {"session=abc"}, "Content-Type": {"application/json"}}
	r := response{status: 400, header: h, body: []byte(`{"error":"use_dpop_nonce"}`)}
	_, err := parseResponse("crm", r, t0, time.Hour, "s3cret-client-pw")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "n-1", e.Header.Get("DPoP-Nonce"))
	assert.Equal(t, "3", e.Header.Get("Retry-After"))
	assert.Contains(t, e.Header.Get("WWW-Authenticate"), `use_dpop_nonce`)
	assert.NotContains(t, e.Header.Get("WWW-Authenticate"), "s3cret-client-pw")
	assert.Empty(t, e.Header.Get("Set-Cookie"))
	assert.Len(t, e.Header, 3)
	r = response{status: 500, header: http.Header{}, body: []byte(`oops`)}
	_, err = parseResponse("crm", r, t0, time.Hour)
	require.ErrorAs(t, err, &e)
	assert.Nil(t, e.Header)
}
