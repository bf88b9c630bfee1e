package oauthclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

const (
	testClient = "crm"
	testSecret = "s3cret-Transport-Test"
)

// newAuthServer starts the fake authorization server with one client and
// returns a source fetching its tokens over plain HTTP.
func newAuthServer(t testing.TB) (*oauthtest.Server, *oauthclient.Source) {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: testClient, Secret: testSecret})
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "crm", TokenURL: as.TokenURL(), ClientID: testClient, ClientSecret: oauthclient.NewSecret(testSecret),
	}, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	return as, src
}

// backend is an httptest API server recording what it received.
type backend struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string // Authorization header of every hit
	hits  atomic.Int64
}

func newBackend(t *testing.T, h func(w http.ResponseWriter, r *http.Request, hit int)) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(b.hits.Add(1))
		b.mu.Lock()
		b.auths = append(b.auths, r.Header.Get("Authorization"))
		b.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.auths...)
}

// bearerValue strips the "Bearer " scheme.
func bearerValue(t *testing.T, h string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(h, "Bearer ")
	require.Truef(t, ok, "Authorization %q is not a bearer token", h)
	return tok
}

// recordingRT is a base transport that answers 200 and records the
// Authorization header it was given, without any network.
type recordingRT struct{ got []string }

func (r *recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = append(r.got, req.Header.Get("Authorization"))
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// mkToken builds a token from outside the package (through FromOAuth2).
func mkToken(access string, expiry time.Time) *oauthclient.Token {
	o := &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: expiry}
	tok, err := oauthclient.FromOAuth2(oauth2.StaticTokenSource(o)).Fetch(context.Background())
	if err != nil {
		panic(err)
	}
	return tok
}

func staticSource(access string) (*oauthclient.Source, *atomic.Int64) {
	var fetches atomic.Int64
	f := oauthclient.FetcherFunc(func(context.Context) (*oauthclient.Token, error) {
		fetches.Add(1)
		return mkToken(access, time.Now().Add(time.Hour)), nil
	})
	return oauthclient.NewSourceFrom("static", f, oauthclient.Options{AllowInsecureHTTP: true}), &fetches
}

func TestTransportAttachesTokenOnlyToOrigins(t *testing.T) {
	tests := []struct {
		name   string
		origin string
		url    string
		want   bool
	}{
		{"same origin", "https://api.example.com", "https://api.example.com/v1/x", true},
		{"path of origin ignored", "https://api.example.com/v1", "https://api.example.com/v2/y", true},
		{"default port spelled in request", "https://api.example.com", "https://api.example.com:443/x", true},
		{"default port spelled in origin", "https://api.example.com:443", "https://api.example.com/x", true},
		{"http default port spelled", "http://api.example.com", "http://api.example.com:80/x", true},
		{"host case", "https://API.example.com", "https://api.EXAMPLE.com/x", true},
		{"explicit port", "http://127.0.0.1:8080", "http://127.0.0.1:8080/x", true},
		{"ipv6 literal", "https://[::1]:8443", "https://[::1]:8443/x", true},
		{"other port", "https://api.example.com", "https://api.example.com:8443/x", false},
		{"other explicit port", "http://127.0.0.1:8080", "http://127.0.0.1:8081/x", false},
		{"explicit port, default requested", "https://api.example.com:8443", "https://api.example.com/x", false},
		{"other host", "https://api.example.com", "https://other.example.com/x", false},
		{"suffix host", "https://api.example.com", "https://api.example.com.evil.test/x", false},
		{"userinfo trick", "https://api.example.com", "https://api.example.com@evil.test/x", false},
		{"other scheme", "https://api.example.com", "http://api.example.com/x", false},
		{"https port over http", "https://api.example.com", "http://api.example.com:443/x", false},
		{"any origin", "*", "https://anything.test:9/x", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, fetches := staticSource("tok-1")
			rec := &recordingRT{}
			tr, err := oauthclient.NewTransport(src, rec, tc.origin)
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			require.NoError(t, err)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Len(t, rec.got, 1)
			if tc.want {
				assert.Equal(t, "Bearer tok-1", rec.got[0])
				assert.EqualValues(t, 1, fetches.Load())
			} else {
				assert.Empty(t, rec.got[0])
				assert.Zero(t, fetches.Load(), "no token is fetched for a foreign origin")
			}
		})
	}
}

func TestTransportOverLoopbackUsesIssuedToken(t *testing.T) {
	as, src := newAuthServer(t)
	api := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusNoContent) })
	other := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusNoContent) })
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	for _, u := range []string{api.URL + "/a", api.URL + "/b", other.URL + "/c"} {
		resp, err := c.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
	}
	got := api.seen()
	require.Len(t, got, 2)
	assert.True(t, as.Valid(bearerValue(t, got[0])))
	assert.Equal(t, got[0], got[1], "the cached token is reused")
	assert.Equal(t, []string{""}, other.seen())
	assert.Equal(t, 1, as.Requests(testClient))
}

func TestTransportRedirects(t *testing.T) {
	_, src := newAuthServer(t)
	foreign := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusOK) })
	api := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch r.URL.Path {
		case "/to-foreign":
			http.Redirect(w, r, foreign.URL+"/landing", http.StatusFound)
		case "/to-inner":
			http.Redirect(w, r, "/landing", http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	t.Run("to a foreign host carries no token", func(t *testing.T) {
		resp, err := c.Get(api.URL + "/to-foreign")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, []string{""}, foreign.seen())
	})
	t.Run("within the origin carries the token", func(t *testing.T) {
		before := len(api.seen())
		resp, err := c.Get(api.URL + "/to-inner")
		require.NoError(t, err)
		resp.Body.Close()
		got := api.seen()[before:]
		require.Len(t, got, 2)
		assert.NotEmpty(t, got[0])
		assert.Equal(t, got[0], got[1])
	})
}

func TestTransportRetriesOnceOn401WithFreshToken(t *testing.T) {
	as, src := newAuthServer(t)
	api := newBackend(t, func(w http.ResponseWriter, _ *http.Request, hit int) {
		if hit == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	resp, err := c.Get(api.URL + "/x")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok", string(body))
	got := api.seen()
	require.Len(t, got, 2)
	assert.NotEqual(t, got[0], got[1], "the retry carries a fresh token")
	assert.True(t, as.Valid(bearerValue(t, got[1])))
	assert.Equal(t, 2, as.Requests(testClient))
}

func TestTransportAlways401HitsTwice(t *testing.T) {
	as, src := newAuthServer(t)
	api := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "go away")
	})
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	resp, err := c.Get(api.URL + "/x")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "go away", string(body), "the last 401 comes back readable")
	assert.EqualValues(t, 2, api.hits.Load())
	assert.Equal(t, 2, as.Requests(testClient))
}

func TestTransportNoRetryWhenTokenUnchanged(t *testing.T) {
	src, fetches := staticSource("same-every-time")
	api := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusUnauthorized) })
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	resp, err := c.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.EqualValues(t, 1, api.hits.Load(), "the same token is not sent twice")
	assert.EqualValues(t, 2, fetches.Load())
}

func TestTransportReplaysBodyOn401(t *testing.T) {
	as, src := newAuthServer(t)
	var mu sync.Mutex
	var bodies []string
	api := newBackend(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if hit == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	payload := []byte(`{"name":"Ada"}`)
	req, err := http.NewRequest(http.MethodPost, api.URL+"/customers", bytes.NewReader(payload))
	require.NoError(t, err)
	require.NotNil(t, req.GetBody)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, []string{string(payload), string(payload)}, bodies)
	assert.Equal(t, 2, as.Requests(testClient))
}

func TestTransportDoesNotRetryUnreplayableBody(t *testing.T) {
	_, src := newAuthServer(t)
	api := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusUnauthorized)
	})
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	req, err := http.NewRequest(http.MethodPost, api.URL, io.NopCloser(strings.NewReader("once")))
	require.NoError(t, err)
	require.Nil(t, req.GetBody)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.EqualValues(t, 1, api.hits.Load())
}

func TestTransportLeavesCallerRequestUnmodified(t *testing.T) {
	_, src := newAuthServer(t)
	api := newBackend(t, func(w http.ResponseWriter, _ *http.Request, hit int) {
		if hit == 1 {
			w.WriteHeader(http.StatusUnauthorized) // exercise the retry path too
		}
	})
	tr, err := oauthclient.NewTransport(src, nil, api.URL)
	require.NoError(t, err)

	req, err := http.NewRequest(http.MethodGet, api.URL+"/x", nil)
	require.NoError(t, err)
	req.Header.Set("X-Request-Id", "42")
	h := req.Header
	want := h.Clone()
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()

	assert.Equal(t, reflect.ValueOf(h).Pointer(), reflect.ValueOf(req.Header).Pointer(), "same header map")
	assert.Equal(t, want, req.Header)
	assert.Empty(t, req.Header.Get("Authorization"))
	assert.NotSame(t, req, resp.Request, "the base transport saw a clone")
	assert.EqualValues(t, 2, api.hits.Load())
}

func TestTransportCancelledCallerDoesNotStopSharedFetch(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var fetches atomic.Int64
	var fetchErr atomic.Value
	f := oauthclient.FetcherFunc(func(ctx context.Context) (*oauthclient.Token, error) {
		if fetches.Add(1) == 1 {
			close(started)
		}
		<-release
		fetchErr.Store(errOrNil{ctx.Err()})
		return mkToken("shared", time.Now().Add(time.Hour)), nil
	})
	src := oauthclient.NewSourceFrom("slow", f, oauthclient.Options{AllowInsecureHTTP: true})
	api := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusOK) })
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	do := func(ctx context.Context) <-chan error {
		ch := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			ch <- err
		}()
		return ch
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := do(ctx)
	<-started
	patient := do(context.Background())
	cancel()

	err = <-cancelled // returns while the fetch is still blocked
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, api.hits.Load())

	close(release)
	require.NoError(t, <-patient)
	assert.NoError(t, fetchErr.Load().(errOrNil).err, "the shared fetch was not cancelled")
	assert.EqualValues(t, 1, fetches.Load())
	assert.Equal(t, []string{"Bearer shared"}, api.seen())
}

type errOrNil struct{ err error }

func TestNewTransportErrors(t *testing.T) {
	src, _ := staticSource("x")
	tests := []struct {
		name    string
		src     *oauthclient.Source
		origins []string
	}{
		{"nil source", nil, []string{"https://api.example.com"}},
		{"no origins", src, nil},
		{"no scheme", src, []string{"api.example.com"}},
		{"other scheme", src, []string{"ftp://api.example.com"}},
		{"no host", src, []string{"https://"}},
		{"unparsable", src, []string{"https://api example.com:x"}},
		{"one bad among good", src, []string{"https://api.example.com", "/relative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := oauthclient.NewTransport(tc.src, nil, tc.origins...)
			assert.Error(t, err)
			assert.Nil(t, tr)
			if tc.src != nil {
				c, err := oauthclient.NewClient(tc.src, tc.origins...)
				assert.Error(t, err)
				assert.Nil(t, c)
			}
		})
	}
}

func TestTransportTokenErrorIsReturned(t *testing.T) {
	boom := errors.New("authorization server down")
	f := oauthclient.FetcherFunc(func(context.Context) (*oauthclient.Token, error) { return nil, boom })
	src := oauthclient.NewSourceFrom("down", f, oauthclient.Options{AllowInsecureHTTP: true})
	api := newBackend(t, func(http.ResponseWriter, *http.Request, int) {})
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)

	_, err = c.Get(api.URL)
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, err, oauthclient.ErrNoToken, "a retry policy can tell it from a failed request")
	assert.Zero(t, api.hits.Load(), "no request goes out without its token")
}

// Tokens travel in clear over plain http: only an explicit opt-in for
// tests allows it.
func TestTransportRefusesPlainHTTPWithoutOptIn(t *testing.T) {
	f := oauthclient.FetcherFunc(func(context.Context) (*oauthclient.Token, error) {
		return oauthclient.NewToken("t", "Bearer", time.Now(), time.Now().Add(time.Hour)), nil
	})
	strict := oauthclient.NewSourceFrom("strict", f, oauthclient.Options{})
	_, err := oauthclient.NewTransport(strict, nil, "http://api.example.com")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AllowInsecureHTTP")
	_, err = oauthclient.NewTransport(strict, nil, "https://api.example.com")
	require.NoError(t, err)

	rec := &recordingRT{}
	tr, err := oauthclient.NewTransport(strict, rec, "*")
	require.NoError(t, err)
	for _, u := range []string{"http://a.example/x", "https://a.example/x"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		_, _ = tr.RoundTrip(req)
	}
	assert.Equal(t, []string{"", "Bearer t"}, rec.got, "\"*\" never sends a token over http")
}
