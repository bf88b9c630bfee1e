package oauthtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func fetch(t *testing.T, s *oauthtest.Server) reply {
	t.Helper()
	r := post(t, s.Client(), s.TokenURL(), ccForm(), basic("c", "s"))
	require.Equal(t, 200, r.Status, r.Body)
	return r
}

func TestTokenExpiryByClock(t *testing.T) {
	clock := newClock()
	s := newServer(t, oauthtest.WithClock(clock.Now), oauthtest.WithTokenLifetime(10*time.Minute))
	s.AddClient(oauthtest.Client{ID: "c", Secret: "s"})
	r := fetch(t, s)
	assert.EqualValues(t, 600, r.JSON["expires_in"])
	tok := r.str("access_token")
	assert.Len(t, tok, 26)
	assert.NotEqual(t, tok, fetch(t, s).str("access_token"), "tokens are random")

	clock.Advance(10*time.Minute - time.Second)
	assert.True(t, s.Valid(tok))
	clock.Advance(time.Second)
	assert.False(t, s.Valid(tok))
	assert.False(t, s.Valid("never-issued"))

	forever := newServer(t, oauthtest.WithClock(clock.Now), oauthtest.WithTokenLifetime(0))
	forever.AddClient(oauthtest.Client{ID: "c", Secret: "s"})
	r = fetch(t, forever)
	assert.NotContains(t, r.JSON, "expires_in")
	clock.Advance(1000 * time.Hour)
	assert.True(t, forever.Valid(r.str("access_token")))
}

func TestRevoke(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "c", Secret: "s"})
	a, b := fetch(t, s).str("access_token"), fetch(t, s).str("access_token")
	s.Revoke(a)
	assert.False(t, s.Valid(a))
	assert.True(t, s.Valid(b))
	s.RevokeAll()
	assert.False(t, s.Valid(b))
	assert.True(t, s.Valid(fetch(t, s).str("access_token")), "new tokens are valid again")
}

func TestRequireToken(t *testing.T) {
	clock := newClock()
	s := newServer(t, oauthtest.WithClock(clock.Now), oauthtest.WithTokenLifetime(time.Minute))
	s.AddClient(oauthtest.Client{ID: "c", Secret: "s"})
	backend := httptest.NewServer(s.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	})))
	t.Cleanup(backend.Close)
	good := fetch(t, s).str("access_token")
	revoked := fetch(t, s).str("access_token")
	s.Revoke(revoked)

	tests := []struct {
		name          string
		auth          string
		wantStatus    int
		wantChallenge string
	}{
		{"valid", "Bearer " + good, 200, ""},
		{"scheme case-insensitive", "bearer " + good, 200, ""},
		{"missing", "", 401, `Bearer realm="oauthtest"`},
		{"other scheme", "Basic " + b64("c:s"), 401, `Bearer realm="oauthtest"`},
		{"unknown", "Bearer forged", 401, `error="invalid_token"`},
		{"revoked", "Bearer " + revoked, 401, `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, backend.URL, nil)
			require.NoError(t, err)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := backend.Client().Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			if tt.wantStatus == 200 {
				assert.Equal(t, "hello", string(body))
			}
			if tt.wantChallenge != "" {
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), tt.wantChallenge)
			}
			if tt.name == "missing" {
				assert.NotContains(t, resp.Header.Get("WWW-Authenticate"), "error=")
			}
		})
	}
	assert.Equal(t, []string{good, good, "forged", revoked}, s.SeenTokens())

	clock.Advance(time.Minute)
	req, _ := http.NewRequest(http.MethodGet, backend.URL, nil)
	req.Header.Set("Authorization", "Bearer "+good)
	resp, err := backend.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "expired by the injected clock")
}

func TestConcurrentCounting(t *testing.T) {
	s := newServer(t)
	clients := []string{"a", "b", "c"}
	for _, id := range clients {
		s.AddClient(oauthtest.Client{ID: id, Secret: "s"})
	}
	s.AddClient(oauthtest.Client{ID: "p"})
	const perClient = 40
	var wg sync.WaitGroup
	for _, id := range clients {
		for range perClient {
			wg.Go(func() {
				resp, err := s.Client().PostForm(s.TokenURL(), ccForm("client_id", id, "client_secret", "s"))
				if !assert.NoError(t, err) {
					return
				}
				resp.Body.Close()
				assert.Equal(t, 200, resp.StatusCode)
			})
		}
	}
	// Other knobs and readers run at the same time.
	wg.Go(func() {
		for range perClient {
			s.SetLatency(0)
			s.Valid("x")
			_, _ = s.LastRequest()
			_ = s.Requests("a")
		}
	})
	wg.Wait()
	for _, id := range clients {
		assert.Equal(t, perClient, s.Requests(id), id)
	}
	assert.Equal(t, 0, s.Requests("p"))
	assert.Equal(t, 0, s.Requests("nobody"))
	assert.Equal(t, perClient*len(clients), s.Requests(""))

	// A request with no client is counted in the total only.
	post(t, s.Client(), s.TokenURL(), ccForm(), nil)
	assert.Equal(t, perClient*len(clients)+1, s.Requests(""))
}
