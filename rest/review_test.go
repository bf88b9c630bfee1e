package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// A secret the backend echoes across the excerpt's bound is not shown in
// part: the body is scrubbed before it is cut.
func TestExcerptBoundDoesNotCutASecretOpen(t *testing.T) {
	const key = "APIKEY-0123456789abcdefghijklmnopqrstuvwxyz"
	echo := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, strings.Repeat("x", MaxExcerpt-10)+" "+r.Header.Get("X-Api-Key")+" is not valid")
	})
	c, _ := testConn(t, echo.URL, APIKeyHeader("X-API-Key", key), ConnConfig{})
	_, err := c.Get(context.Background(), "x")
	var re *Error
	require.ErrorAs(t, err, &re)
	assert.LessOrEqual(t, len(re.Excerpt), MaxExcerpt)
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

// Close may be called from several goroutines; the store closes once.
func TestConcurrentCloseClosesTheStoreOnce(t *testing.T) {
	st := &countingStore{}
	cfg, err := ParseConfig([]byte("store:\n  fake: {size: 1}\n"), WithStoreDriver(fakeDriver{st}))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = reg.Close() }()
	}
	wg.Wait()
	assert.Equal(t, 1, st.closes())
	_, err = reg.Security("anything")
	assert.ErrorIs(t, err, ErrClosed)
	_, err = reg.Conn("crm")
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, oauthclient.ErrClosed, "one sentinel")
}

// A configuration changed after it was loaded is checked again by Open.
func TestOpenChecksAConfigChangedAfterLoading(t *testing.T) {
	cfg, err := ParseConfig([]byte("rest:\n  crm: {base_url: 'https://crm.example.com'}\n"))
	require.NoError(t, err)
	cc := cfg.REST["crm"]
	cc.Headers = map[string]string{"X-Bad\r\nInjected": "v"}
	cc.Timeout = -1
	cfg.REST["crm"] = cc
	_, err = Open(context.Background(), cfg)
	ps := loadProblems(t, err)
	assert.Len(t, ps, 2, "%v", err)
}

// Registry.NewConn builds a replacement with the registry's definitions
// and options: plain http allowed as the loader was told, and the
// definition's tokens shared.
func TestRegistryNewConnInheritsTheSettings(t *testing.T) {
	as, reg := oauthSetup(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"id":"1"}`) })
	old, err := reg.Conn("crm")
	require.NoError(t, err)
	next, err := reg.NewConn("crm", ConnConfig{BaseURL: old.BaseURL(), Security: "crm-oauth", Timeout: 3 * time.Second})
	require.NoError(t, err, "http:// accepted: the loader was given AllowInsecureHTTP")
	require.NoError(t, reg.Put(next))
	for _, c := range []*Conn{old, next} {
		_, err := GetJSON[customer](context.Background(), c, "customers/1")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, as.Requests(""), "one token for the old and the new connection")
	_, err = reg.NewConn("x", ConnConfig{BaseURL: "https://x.example", Security: "nope"})
	ps := loadProblems(t, err)
	assert.Equal(t, "security", ps[0].Field)
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

// A POST sent through Do with RetryableContext is retried like a read.
func TestRetryableContextForDo(t *testing.T) {
	n, url := flaky(t, nil, 503)
	c, _ := testConn(t, url, nil, ConnConfig{})
	for name, ctx := range map[string]context.Context{"plain": context.Background(), "retryable": RetryableContext(context.Background())} {
		n.Store(0)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/q", strings.NewReader("payload"))
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		if name == "plain" {
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
			assert.Equal(t, int32(1), n.Load(), "a POST is not repeated")
		} else {
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, int32(2), n.Load(), "marked safe: retried")
		}
	}
}
