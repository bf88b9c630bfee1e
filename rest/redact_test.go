package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// A secret the backend echoes across the excerpt's bound is not shown in
// part: the body is scrubbed before it is cut.
func TestExcerptBoundDoesNotCutASecretOpen(t *testing.T) {
	const key = "APIKEY-0123456789abcdefghijklmnopqrstuvwxyz"
	echo := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, strings.Repeat("x", maxExcerpt-10)+" "+r.Header.Get("X-Api-Key")+" is not valid")
	})
	c, _ := testConn(t, echo.URL, APIKeyHeader("X-API-Key", key), ConnConfig{})
	_, err := c.Get(context.Background(), "x")
	var re *Error
	require.ErrorAs(t, err, &re)
	assert.LessOrEqual(t, len(re.Excerpt), maxExcerpt)
	assert.NotContains(t, re.Excerpt, key[:9], "no prefix of the key")
}

// recordingTransport answers like a recorder or a fake: a response it
// builds itself, without Request, echoing the credential it was sent.
type recordingTransport struct{}

func (recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"detail":"token ` + r.Header.Get("Authorization") + ` lacks scope"}`
	return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
}

// The credential sent is scrubbed even when the base transport builds its
// own responses (WithTransport: fakes, recorders, caches).
func TestCredentialScrubbedWithACustomTransport(t *testing.T) {
	src := oauthclient.NewSourceFrom("o", oauthclient.FetcherFunc(func(context.Context) (*oauthclient.Token, error) {
		return oauthclient.NewToken("TOKEN-from-fake-9876543210", "Bearer", time.Now(), time.Now().Add(time.Hour)), nil
	}), oauthclient.Options{})
	for name, sec := range map[string]Security{"oauth": OAuth(src), "bearer": Bearer("TOKEN-from-fake-9876543210")} {
		c, err := NewConn("crm", ConnConfig{BaseURL: "https://crm.example.com"}, sec, WithTransport(recordingTransport{}))
		require.NoError(t, err)
		_, err = c.Get(context.Background(), "x")
		require.ErrorIs(t, err, ErrForbidden, name)
		assert.NotContains(t, err.Error(), "TOKEN-from-fake", name)
		assert.Contains(t, err.Error(), "GET https://crm.example.com/x", "%s: method and URL known", name)
	}
	c, err := NewConn("crm", ConnConfig{BaseURL: "https://crm.example.com"}, nil, WithTransport(recordingTransport{}))
	require.NoError(t, err)
	type out struct{ Detail string }
	_, err = GetJSON[out](context.Background(), c, "x")
	assert.ErrorIs(t, err, ErrForbidden, "no panic on a response without Request")
}

// A credential echoed escaped (in a query string, in a JSON string) is
// scrubbed too.
func TestEscapedCredentialScrubbed(t *testing.T) {
	echo := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		q, _ := json.Marshal(r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, `{"q":"`+url.QueryEscape(r.Header.Get("Authorization"))+`","j":`+string(q)+`}`)
	})
	c, _ := testConn(t, echo.URL, Basic("svc", `p/w+x?"<`), ConnConfig{})
	_, err := c.Get(context.Background(), "x")
	require.ErrorIs(t, err, ErrForbidden)
	sent := "Basic " + base64.StdEncoding.EncodeToString([]byte(`svc:p/w+x?"<`))
	assert.NotContains(t, err.Error(), sent[6:12], "no part of the Basic credential, in any form")
}

// A backend that echoes the credential it was sent ("token Bearer … lacks
// scope") never puts it in an error: neither the OAuth token, nor an API
// key in a header.
func TestErrorsScrubTheCredentialSent(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	echo := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"detail":"token `+r.Header.Get("Authorization")+` / key `+r.Header.Get("X-Api-Key")+` lacks scope"}`)
	})
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "o", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw")},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	for name, sec := range map[string]Security{"oauth": OAuth(src), "apikey": APIKeyHeader("X-API-Key", "KEY-in-header-77")} {
		t.Run(name, func(t *testing.T) {
			c, _ := testConn(t, echo.URL, sec, ConnConfig{})
			_, err := c.Get(context.Background(), "x")
			var re *Error
			require.ErrorAs(t, err, &re)
			assert.ErrorIs(t, err, ErrForbidden)
			assert.Contains(t, re.Excerpt, "lacks scope")
			for _, secret := range []string{tok.AccessToken(), "KEY-in-header-77"} {
				assert.NotContains(t, err.Error(), secret)
				assert.NotContains(t, re.Excerpt, secret)
			}
		})
	}
}
