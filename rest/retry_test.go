package rest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/callctx"
	"github.com/tokenwire/tokenwire/internal/refusing"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// flaky answers with statuses in order, then 200, counting attempts.
func flaky(t *testing.T, hdr http.Header, statuses ...int) (*atomic.Int32, string) {
	t.Helper()
	var n atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost {
			assert.Equal(t, "payload", string(body), "the body is replayed on every attempt")
		}
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			for k, v := range hdr {
				w.Header()[k] = v
			}
			w.WriteHeader(statuses[i])
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	return &n, srv.URL
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		method       string
		statuses     []int
		policy       RetryPolicy
		opts         []RequestOption
		hdr          http.Header
		wantAttempts int32
		wantStatus   int // 0: success
		wantSleeps   []time.Duration
	}{
		{name: "503 then ok", method: "GET", statuses: []int{503}, wantAttempts: 2},
		{name: "429 twice then ok", method: "GET", statuses: []int{429, 429}, wantAttempts: 3},
		{name: "gives up after max attempts", method: "GET", statuses: []int{503, 503, 503, 503}, wantAttempts: 3, wantStatus: 503},
		{name: "500 not retried", method: "GET", statuses: []int{500}, wantAttempts: 1, wantStatus: 500},
		{name: "404 not retried", method: "GET", statuses: []int{404}, wantAttempts: 1, wantStatus: 404},
		{name: "put is idempotent", method: "PUT", statuses: []int{503}, wantAttempts: 2},
		{name: "delete is idempotent", method: "DELETE", statuses: []int{503}, wantAttempts: 2},
		{name: "post not retried", method: "POST", statuses: []int{503}, wantAttempts: 1, wantStatus: 503},
		{name: "patch not retried", method: "PATCH", statuses: []int{429}, wantAttempts: 1, wantStatus: 429},
		{name: "post retried when opted in per call", method: "POST", statuses: []int{503}, opts: []RequestOption{Retryable()}, wantAttempts: 2},
		{name: "post retried with idempotency key", method: "POST", statuses: []int{503}, opts: []RequestOption{Header("Idempotency-Key", "k1")}, wantAttempts: 2},
		{name: "post retried by policy", method: "POST", statuses: []int{503}, policy: RetryPolicy{RetryNonIdempotent: true}, wantAttempts: 2},
		{name: "retries disabled", method: "GET", statuses: []int{503}, policy: RetryPolicy{MaxAttempts: 1}, wantAttempts: 1, wantStatus: 503},
		{name: "retry-after seconds", method: "GET", statuses: []int{429}, hdr: http.Header{"Retry-After": {"7"}},
			wantAttempts: 2, wantSleeps: []time.Duration{7 * time.Second}},
		{name: "retry-after date", method: "GET", statuses: []int{503},
			hdr:          http.Header{"Retry-After": {newFakeClock().Now().Add(12 * time.Second).Format(http.TimeFormat)}},
			wantAttempts: 2, wantSleeps: []time.Duration{12 * time.Second}},
		{name: "retry-after beyond max elapsed", method: "GET", statuses: []int{503}, hdr: http.Header{"Retry-After": {"3600"}},
			wantAttempts: 1, wantStatus: 503},
		{name: "backoff exceeds max elapsed", method: "GET", statuses: []int{503, 503},
			policy:       RetryPolicy{MaxAttempts: 10, MinWait: time.Second, MaxElapsed: time.Second},
			wantAttempts: 2, wantStatus: 503},
		{name: "custom backoff and check", method: "GET", statuses: []int{500, 500},
			policy: RetryPolicy{
				Backoff: func(min, max time.Duration, attempt int, _ *http.Response) time.Duration {
					return time.Duration(attempt) * time.Second
				},
				CheckRetry: func(_ context.Context, resp *http.Response, err error) (bool, error) {
					return err == nil && resp.StatusCode == 500, nil
				},
			},
			wantAttempts: 3, wantSleeps: []time.Duration{time.Second, 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, url := flaky(t, tt.hdr, tt.statuses...)
			c, clk := testConn(t, url, nil, ConnConfig{Retry: tt.policy})
			resp, err := c.Send(context.Background(), tt.method, "r", strings.NewReader("payload"), tt.opts...)
			assert.Equal(t, tt.wantAttempts, n.Load(), "attempts")
			if tt.wantStatus != 0 {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tt.wantStatus, e.StatusCode)
				assert.Equal(t, int(tt.wantAttempts), e.Attempts)
			} else {
				require.NoError(t, err)
				resp.Body.Close()
			}
			if tt.wantSleeps != nil {
				assert.Equal(t, tt.wantSleeps, clk.Sleeps())
			}
			for _, d := range clk.Sleeps() {
				assert.LessOrEqual(t, d, time.Hour)
			}
		})
	}
}

func TestDefaultBackoffIsCappedExponentialWithJitter(t *testing.T) {
	for attempt := 1; attempt <= 10; attempt++ {
		d := defaultBackoff(100*time.Millisecond, 2*time.Second, attempt, nil)
		want := min(100*time.Millisecond<<(attempt-1), 2*time.Second)
		assert.GreaterOrEqual(t, d, want/2, "attempt %d", attempt)
		assert.LessOrEqual(t, d, want, "attempt %d", attempt)
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	n, url := flaky(t, nil, 503, 503, 503)
	c, err := NewConn("crm", ConnConfig{BaseURL: url}, nil, AllowInsecureHTTP(),
		WithSleep(func(ctx context.Context, _ time.Duration) error { return context.Canceled }))
	require.NoError(t, err)
	_, err = c.Get(context.Background(), "x")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(1), n.Load())
}

func TestConnectionRefusedRetriedEvenForPost(t *testing.T) {
	c, clk := testConn(t, refusing.URL(t), nil, ConnConfig{})
	_, err := c.Send(context.Background(), http.MethodPost, "x", strings.NewReader("payload"))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, defaultMaxAttempts, e.Attempts, "a refused connection never reached the server")
	assert.Len(t, clk.Sleeps(), defaultMaxAttempts-1)
}

func TestUnreplayableBodyNotRetried(t *testing.T) {
	n, url := flaky(t, nil, 503)
	c, _ := testConn(t, url, nil, ConnConfig{})
	_, err := c.Send(context.Background(), http.MethodPut, "x", io.MultiReader(strings.NewReader("payload")))
	assert.ErrorIs(t, err, ErrServerError)
	assert.Equal(t, int32(1), n.Load())
}

// errSecurity fails every request with err, like a token source would.
type errSecurity struct{ err error }

func (s errSecurity) RoundTripper(http.RoundTripper, string) (http.RoundTripper, error) {
	return roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, s.err }), nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSecurityErrorsNotRetried(t *testing.T) {
	invalid := &oauthclient.Error{Definition: "crm", StatusCode: 401, Code: "invalid_client"}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"invalid_client", invalid, 1},
		{"backing off", &oauthclient.BackoffError{Definition: "crm", Until: time.Now().Add(time.Minute), Err: invalid}, 1},
		{"backing off after a temporary failure", &oauthclient.BackoffError{Definition: "crm",
			Err: &oauthclient.Error{Definition: "crm", StatusCode: 503}}, 1},
		{"config", &oauthclient.ConfigError{Definition: "crm", Field: "private_key", Reason: "unreadable"}, 1},
		{"temporary token endpoint failure", &oauthclient.Error{Definition: "crm", StatusCode: 503}, defaultMaxAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := testConn(t, "http://127.0.0.1:1", errSecurity{tt.err}, ConnConfig{})
			_, err := c.Get(context.Background(), "x")
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.want, e.Attempts)
			assert.Len(t, clk.Sleeps(), tt.want-1)
			assert.ErrorIs(t, err, tt.err)
		})
	}
}

func TestOAuthInvalidClientNotRetried(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "svc-secret"})
	as.FailNext(1, oauthtest.OAuthError(http.StatusUnauthorized, "invalid_client", "bad secret"))
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm-oauth", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("svc-secret")}, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	backend := newServer(t, func(http.ResponseWriter, *http.Request) { t.Error("no token, no call") })
	c, clk := testConn(t, backend.URL, OAuth(src), ConnConfig{})
	_, err = c.Get(context.Background(), "x")
	require.ErrorIs(t, err, oauthclient.ErrInvalidClient)
	assert.NotContains(t, err.Error(), "attempts")
	assert.Empty(t, clk.Sleeps())
	assert.Equal(t, 1, as.Requests("svc"))
}

// A policy of one's own starts from DefaultCheckRetry: here, a 502 is
// retried too.
func TestCustomCheckRetryOverDefault(t *testing.T) {
	n, url := flaky(t, nil, http.StatusBadGateway, http.StatusServiceUnavailable)
	also502 := func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if err == nil && resp.StatusCode == http.StatusBadGateway {
			return true, nil
		}
		return DefaultCheckRetry(ctx, resp, err)
	}
	c, _ := testConn(t, url, nil, ConnConfig{Retry: RetryPolicy{CheckRetry: also502}})
	resp, err := c.Get(context.Background(), "x")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int32(3), n.Load(), "the 502, the 503, then the success")
}

// A POST sent through Do with a context marked retryable (a search
// by POST) is retried like a read.
func TestRetryableContextForDo(t *testing.T) {
	n, url := flaky(t, nil, 503)
	c, _ := testConn(t, url, nil, ConnConfig{})
	for name, ctx := range map[string]context.Context{"plain": context.Background(), "retryable": callctx.Retryable(context.Background())} {
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
