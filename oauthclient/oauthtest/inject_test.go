package oauthtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func TestFailNext(t *testing.T) {
	tests := []struct {
		name string
		resp oauthtest.Response
	}{
		{"503 with Retry-After", oauthtest.Response{Status: 503, ContentType: "text/plain", Body: "busy", Header: http.Header{"Retry-After": {"7"}}}},
		{"200 with error body", oauthtest.OAuthError(200, "invalid_client", "bad")},
		{"HTML from a proxy", oauthtest.Response{Status: 502, ContentType: "text/html; charset=utf-8", Body: "<html><body>Bad Gateway</body></html>"}},
		{"form-encoded error", oauthtest.Response{Status: 400, ContentType: "application/x-www-form-urlencoded", Body: "error=invalid_scope"}},
		{"no content type", oauthtest.Response{Body: `{"access_token":"x"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.AddClient(oauthtest.Client{ID: "c", Secret: "s"})
			s.FailNext(2, tt.resp)
			want := tt.resp.Status
			if want == 0 {
				want = 200
			}
			for range 2 {
				r := post(t, s.Client(), s.TokenURL(), ccForm(), basic("c", "s"))
				assert.Equal(t, want, r.Status)
				assert.Equal(t, tt.resp.Body, r.Body)
				assert.Equal(t, tt.resp.ContentType, r.Header.Get("Content-Type"))
				for k := range tt.resp.Header {
					assert.Equal(t, tt.resp.Header.Get(k), r.Header.Get(k))
				}
			}
			r := post(t, s.Client(), s.TokenURL(), ccForm(), basic("c", "s"))
			assert.Equal(t, 200, r.Status)
			assert.True(t, s.Valid(r.str("access_token")))
			assert.Equal(t, 3, s.Requests("c"), "failures are counted")
		})
	}
}

func TestFailNextQueues(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "p"})
	s.FailNext(1, oauthtest.Response{Status: 500})
	s.FailNext(0, oauthtest.Response{Status: 418}) // ignored
	s.FailNext(2, oauthtest.Response{Status: 503})
	var got []int
	for range 4 {
		got = append(got, post(t, s.Client(), s.TokenURL(), ccForm("client_id", "p"), nil).Status)
	}
	assert.Equal(t, []int{500, 503, 503, 200}, got)
}

func TestShapes(t *testing.T) {
	tests := []struct {
		name     string
		shape    func(oauthtest.Token) oauthtest.Response
		wantCT   string
		wantBody []string
		absent   []string
	}{
		{"standard", oauthtest.JSONWith(nil), "application/json", []string{`"expires_in":600`, `"token_type":"Bearer"`, `"scope":"read"`}, nil},
		{"nil restores standard", nil, "application/json", []string{`"expires_in":600`}, nil},
		{"string expires_in", oauthtest.JSONWith(map[string]any{"expires_in": "600", "token_type": "BearerToken"}),
			"application/json", []string{`"expires_in":"600"`, `"token_type":"BearerToken"`}, nil},
		{"no expires_in", oauthtest.JSONWith(map[string]any{"expires_in": nil}), "application/json", []string{`"access_token"`}, []string{"expires_in"}},
		{"custom", func(tok oauthtest.Token) oauthtest.Response {
			return oauthtest.Response{ContentType: "text/plain", Body: "token=" + tok.AccessToken}
		}, "text/plain", []string{"token="}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, oauthtest.WithTokenLifetime(10*time.Minute))
			s.AddClient(oauthtest.Client{ID: "c", Secret: "s", Scopes: []string{"read"}})
			s.SetShape(tt.shape)
			r := post(t, s.Client(), s.TokenURL(), ccForm(), basic("c", "s"))
			require.Equal(t, 200, r.Status)
			assert.Equal(t, tt.wantCT, r.Header.Get("Content-Type"))
			for _, w := range tt.wantBody {
				assert.Contains(t, r.Body, w)
			}
			for _, a := range tt.absent {
				assert.NotContains(t, r.Body, a)
			}
			assert.True(t, s.Valid(accessToken(t, r)), "the token is issued whatever the shape")
		})
	}
}

// accessToken extracts the access token from any of the shapes above.
func accessToken(t *testing.T, r reply) string {
	t.Helper()
	if tok := r.str("access_token"); tok != "" {
		return tok
	}
	if tok, ok := strings.CutPrefix(r.Body, "token="); ok {
		return tok
	}
	v, err := url.ParseQuery(r.Body)
	require.NoError(t, err)
	return v.Get("access_token")
}

func TestLatency(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "p"})
	s.SetLatency(time.Millisecond)
	r := post(t, s.Client(), s.TokenURL(), ccForm("client_id", "p"), nil)
	assert.Equal(t, 200, r.Status)
}

func TestLatencyCancelledClient(t *testing.T) {
	s := oauthtest.NewServer()
	s.AddClient(oauthtest.Client{ID: "p"})
	s.SetLatency(time.Hour)
	s.FailNext(1, oauthtest.Response{Status: 503})

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(),
			strings.NewReader(ccForm("client_id", "p").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	require.Eventually(t, func() bool { return s.Requests("") == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while a request was waiting")
	}
}

func TestCloseEndsPendingLatency(t *testing.T) {
	s := oauthtest.NewServer()
	s.AddClient(oauthtest.Client{ID: "p"})
	s.SetLatency(time.Hour)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := s.Client().PostForm(s.TokenURL(), ccForm("client_id", "p"))
		if err == nil {
			resp.Body.Close()
			err = errors.New("unexpected answer " + resp.Status)
		}
		assert.Error(t, err)
	}()
	require.Eventually(t, func() bool { return s.Requests("") == 1 }, 10*time.Second, time.Millisecond)
	s.Close()
	s.Close() // idempotent
	wg.Wait()
}
