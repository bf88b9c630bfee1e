package oauthclient

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestParseResponseTokens(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body string
		wantLife          time.Duration
		wantType, scope   string
	}{
		{"rfc json", "application/json", `{"access_token":"a1","token_type":"Bearer","expires_in":3600,"scope":"read write"}`, time.Hour, "Bearer", "read write"},
		{"json with charset", "application/json; charset=utf-8", `{"access_token":"a1","token_type":"bearer","expires_in":60}`, time.Minute, "bearer", ""},
		{"expires_in string", "application/json", `{"access_token":"a1","token_type":"Bearer","expires_in":"3599"}`, 3599 * time.Second, "Bearer", ""},
		{"expires_in float", "application/json", `{"access_token":"a1","expires_in":1.5}`, 1500 * time.Millisecond, "", ""},
		{"expires_in float string", "application/json", `{"access_token":"a1","expires_in":" 90.0 "}`, 90 * time.Second, "", ""},
		{"expires_in absurd", "application/json", `{"access_token":"a1","expires_in":99999999999999999999999}`, maxLifetime, "", ""},
		{"expires_in absurd string", "application/json", `{"access_token":"a1","expires_in":"1e300"}`, maxLifetime, "", ""},
		{"expires_in missing", "application/json", `{"access_token":"a1","token_type":"Bearer"}`, 42 * time.Minute, "Bearer", ""},
		{"expires_in zero", "application/json", `{"access_token":"a1","expires_in":0}`, 42 * time.Minute, "", ""},
		{"expires_in null", "application/json", `{"access_token":"a1","expires_in":null}`, 42 * time.Minute, "", ""},
		{"token_type upper", "application/json", `{"access_token":"a1","token_type":"BEARER","expires_in":10}`, 10 * time.Second, "BEARER", ""},
		{"apigee BearerToken", "application/json;charset=UTF-8", `{"access_token":"a1","token_type":"BearerToken","expires_in":"1799","issued_at":"1700000000000"}`, 1799 * time.Second, "BearerToken", ""},
		{"json as text/plain", "text/plain", `{"access_token":"a1","expires_in":10}`, 10 * time.Second, "", ""},
		{"json no content type", "", ` {"access_token":"a1","expires_in":10} `, 10 * time.Second, "", ""},
		{"form encoded", "application/x-www-form-urlencoded", `access_token=a1&token_type=bearer&expires_in=120&scope=a+b`, 2 * time.Minute, "bearer", "a b"},
		{"form as text/plain", "text/plain", `access_token=a1&expires_in=120`, 2 * time.Minute, "", ""},
		{"form as text/html", "text/html", `access_token=a1&expires_in=120`, 2 * time.Minute, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := response{status: 200, header: http.Header{"Content-Type": {tc.ctype}}, body: []byte(tc.body)}
			tok, err := parseResponse("crm", r, t0, 42*time.Minute)
			require.NoError(t, err)
			assert.Equal(t, "a1", tok.AccessToken())
			assert.Equal(t, t0.Add(tc.wantLife), tok.Expiry())
			assert.Equal(t, tc.wantType, tok.Type())
			assert.Equal(t, "Bearer", tok.Scheme())
			assert.Equal(t, []string{"Bearer a1"}, tok.cred.header)
			assert.Equal(t, tc.scope, tok.Scope())
		})
	}
}

func TestParseResponseExtraMembers(t *testing.T) {
	r := response{status: 200, header: http.Header{}, body: []byte(`{"access_token":"a1","id_token":"x.y.z","ext":{"tenant":"t1"}}`)}
	tok, err := parseResponse("crm", r, t0, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "x.y.z", tok.Extra("id_token"))
	assert.Equal(t, map[string]any{"tenant": "t1"}, tok.Extra("ext"))
	assert.Equal(t, "x.y.z", tok.OAuth2().Extra("id_token"))
}

func TestParseResponseDPoP(t *testing.T) {
	r := response{status: 200, header: http.Header{}, body: []byte(`{"access_token":"a1","token_type":"DPoP"}`)}
	tok, err := parseResponse("crm", r, t0, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "DPoP", tok.Scheme())
}

func TestParseResponseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		header            http.Header
		is                error
		code              string
		contains          string
		retryAfter        time.Duration
		temporary         bool // a 2xx that could not be read is worth retrying later
	}{
		{name: "rfc invalid_client 401", status: 401, ctype: "application/json", body: `{"error":"invalid_client","error_description":"bad creds"}`, is: ErrInvalidClient, code: "invalid_client", contains: "bad creds"},
		{name: "rfc error with 200", status: 200, ctype: "application/json", body: `{"error":"invalid_scope"}`, is: ErrInvalidScope, code: "invalid_scope"},
		{name: "form error", status: 400, ctype: "application/x-www-form-urlencoded", body: `error=invalid_grant&error_description=nope`, is: ErrInvalidGrant, code: "invalid_grant"},
		{name: "invalid_target", status: 400, ctype: "application/json", body: `{"error":"invalid_target"}`, is: ErrInvalidTarget, code: "invalid_target"},
		{name: "html proxy page", status: 502, ctype: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>", is: ErrMalformedResponse, contains: "502 Bad Gateway", temporary: true},
		{name: "html with 200", status: 200, ctype: "text/html", body: "<!DOCTYPE html><title>Login</title>", is: ErrMalformedResponse, contains: "HTML", temporary: true},
		{name: "empty body", status: 200, ctype: "application/json", body: "", is: ErrMalformedResponse, contains: "empty body", temporary: true},
		{name: "empty 503 retry-after", status: 503, header: http.Header{"Retry-After": {"30"}}, body: " ", is: ErrMalformedResponse, retryAfter: 30 * time.Second, temporary: true},
		{name: "429 json", status: 429, ctype: "application/json", header: http.Header{"Retry-After": {"7"}}, body: `{"message":"slow down"}`, contains: "slow down", retryAfter: 7 * time.Second, temporary: true},
		{name: "no access_token", status: 200, ctype: "application/json", body: `{"token_type":"Bearer"}`, is: ErrMalformedResponse, contains: "no access_token", temporary: true},
		{name: "access_token not string", status: 200, ctype: "application/json", body: `{"access_token":42}`, is: ErrMalformedResponse, temporary: true},
		{name: "bad expires_in", status: 200, ctype: "application/json", body: `{"access_token":"a","expires_in":"soon"}`, is: ErrMalformedResponse, contains: "expires_in", temporary: true},
		{name: "token with newline", status: 200, ctype: "application/json", body: `{"access_token":"a\r\nX-Evil: 1"}`, is: ErrMalformedResponse, contains: "not allowed", temporary: true},
		{name: "truncated json", status: 200, ctype: "application/json", body: `{"access_token":"a"`, is: ErrMalformedResponse, contains: "invalid JSON", temporary: true},
		{name: "plain text", status: 500, ctype: "text/plain", body: "Internal Server Error", is: ErrMalformedResponse, contains: "Internal Server Error", temporary: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {tc.ctype}}
			for k, v := range tc.header {
				h[k] = v
			}
			_, err := parseResponse("crm", response{status: tc.status, header: h, body: []byte(tc.body)}, t0, time.Hour)
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e))
			assert.Equal(t, "crm", e.Definition)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.retryAfter, e.RetryAfter)
			assert.Equal(t, tc.temporary, e.Temporary())
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), tc.contains)
			assert.Contains(t, err.Error(), `definition "crm"`)
		})
	}
}

func TestParseResponseScrubsSecrets(t *testing.T) {
	secret := "s3cr3t-value"
	assertion := "eyJhbGciOi.eyJpc3Mi.c2lnbmF0dXJl"
	body := "<html>you sent client_secret=" + secret + "&client_assertion=" + assertion + "</html>"
	_, err := parseResponse("crm", response{status: 400, header: http.Header{}, body: []byte(body)}, t0, time.Hour, secret, assertion)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, err.Error(), assertion)

	desc := `{"error":"invalid_client","error_description":"secret ` + secret + ` is wrong"}`
	_, err = parseResponse("crm", response{status: 401, header: http.Header{}, body: []byte(desc)}, t0, time.Hour, secret)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
}

func TestExcerptIsBounded(t *testing.T) {
	body := "<html>" + strings.Repeat("x", 10000) + "</html>"
	_, err := parseResponse("crm", response{status: 500, header: http.Header{}, body: []byte(body)}, t0, time.Hour)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.LessOrEqual(t, len(e.Excerpt), excerptLen+len("…"))
}

func TestTokenRoundTripThroughStoreFormat(t *testing.T) {
	tok := newToken("a1", "bearer", "read", t0, t0.Add(time.Hour), map[string]any{"id_token": "x"})
	b, err := tok.marshal(t0)
	require.NoError(t, err)
	got, err := unmarshalToken(b)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken(), got.AccessToken())
	assert.True(t, tok.Expiry().Equal(got.Expiry()))
	assert.True(t, tok.IssuedAt().Equal(got.IssuedAt()))
	assert.Equal(t, "read", got.Scope())
	assert.Equal(t, "x", got.Extra("id_token"))
	_, err = unmarshalToken([]byte(`{"a":""}`))
	assert.Error(t, err)
}

func TestScrubCollapsedWhitespaceSecret(t *testing.T) {
	secret := "pass\t word\nwith  gaps"
	out := scrub("<p>echo: "+secret+"</p>", []string{secret})
	assert.NotContains(t, out, "word with gaps")
	assert.NotContains(t, out, "word")
}

func TestParseResponseVendorQuirks(t *testing.T) {
	for name, body := range map[string]string{
		"bom json":          "\xef\xbb\xbf{\"access_token\":\"a1\",\"expires_in\":60}",
		"form with a space": "access_token=a1&expires_in=60&scope=read write",
		"scope as array":    `{"access_token":"a1","expires_in":60,"scope":["read","write"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := parseResponse("crm", response{status: 200, header: http.Header{}, body: []byte(body)}, t0, time.Hour)
			require.NoError(t, err)
			assert.Equal(t, "a1", tok.AccessToken())
			assert.Equal(t, t0.Add(time.Minute), tok.Expiry())
		})
	}
	tok, _ := parseResponse("crm", response{status: 200, header: http.Header{}, body: []byte(`{"access_token":"a1","scope":["read","write"]}`)}, t0, time.Hour)
	assert.Equal(t, "read write", tok.Scope())
}

// A body that carries a token but cannot be used never shows the token.
func TestParseResponseNeverEchoesTokens(t *testing.T) {
	for name, r := range map[string]response{
		"trailing comma 200": {status: 200, body: []byte(`{"access_token":"SECRETACCESS123","expires_in":3600,}`)},
		"html 200":           {status: 200, body: []byte(`<p>access_token=SECRETACCESS123</p>`)},
		"json 500":           {status: 500, body: []byte(`{"access_token": "SECRETACCESS123", "oops": true}`)},
		"form 502":           {status: 502, body: []byte(`refresh_token=SECRETACCESS123&x=1`)},
	} {
		t.Run(name, func(t *testing.T) {
			r.header = http.Header{}
			_, err := parseResponse("crm", r, t0, time.Hour)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "SECRETACCESS123")
		})
	}
}

type unhashableErr []string

func (unhashableErr) Error() string { return "x" }

func TestErrorIsWithUnhashableTarget(t *testing.T) {
	e := &Error{Code: "invalid_client"}
	assert.NotPanics(t, func() { assert.False(t, errors.Is(e, unhashableErr{"a"})) })
	assert.ErrorIs(t, e, ErrInvalidClient)
	assert.NotErrorIs(t, e, ErrInvalidScope)
	assert.True(t, errors.Is(&Error{Code: "server_error", StatusCode: 200}, ErrMalformedResponse) == false)
}

func TestParseResponseNonStringErrorMember(t *testing.T) {
	_, err := parseResponse("crm", response{status: 400, header: http.Header{}, body: []byte(`{"error":42}`)}, t0, time.Hour)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "42", e.Code)
}
