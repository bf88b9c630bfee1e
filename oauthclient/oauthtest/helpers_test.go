package oauthtest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/fakeclock"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// fakeClock is a clock that tests move by hand.
type fakeClock = fakeclock.Clock

func newClock() *fakeClock { return fakeclock.At(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) }

func newServer(t *testing.T, opts ...oauthtest.Option) *oauthtest.Server {
	t.Helper()
	s := oauthtest.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// reply is a decoded token endpoint answer.
type reply struct {
	Status int
	Header http.Header
	Body   string
	JSON   map[string]any
}

func (r reply) str(key string) string {
	s, _ := r.JSON[key].(string)
	return s
}

// post sends a token request; header may set e.g. Authorization.
func post(t *testing.T, c *http.Client, tokenURL string, form url.Values, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}

func ccForm(kv ...string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// basic encodes client credentials as RFC 6749 §2.3.1 says.
func basic(id, secret string) http.Header {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}}
}

var (
	rsaKey  = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	p256Key = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	p384Key = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)) })
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// claims returns standard assertion claims for client id at aud, valid for
// a minute from now.
func claims(id, aud string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": id, "sub": id, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": rand.Text(),
	}
}

func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func jwtForm(assertion string) url.Values {
	return ccForm("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", assertion)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
