package rest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/oteltest"
)

// A call its caller cancelled mid-flight (the service's own client hung
// up) is not the backend's failure: not in the connection's error counts
// nor its LastError, not counted at all, logged at debug level only; the
// error still matches context.Canceled, and the span and the duration are
// recorded with error.type canceled, as for any call that got no
// response. A call the backend fails, one whose caller's deadline passed
// and one that outlives the connection's own timeout still count: the
// backend did not answer in time.
func TestCallEndedByItsCallerIsNotTheBackendsFailure(t *testing.T) {
	const n = 16
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
			return
		case "/slow":
			arrived <- struct{}{}
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes: a handler left is released
	kit := oteltest.New(t)
	var logs logbuf.Buffer
	clk := newFakeClock()
	c, err := NewConn("crm", ConnConfig{BaseURL: srv.URL}, nil, AllowInsecureHTTP(), WithClock(clk.Now), WithSleep(clk.Sleep),
		WithMeterProvider(kit.MeterProvider), WithTracerProvider(kit.TracerProvider),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := c.Get(ctx, "slow", Query("id", "a"))
			errs <- err
		})
	}
	for range n {
		<-arrived // every call is in flight
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		var e *Error
		assert.True(t, errors.As(err, &e), "still an *Error: %v", err)
	}

	st := c.Stats()
	assert.Zero(t, st.Calls, "calls cancelled by their callers are not counted")
	assert.Zero(t, st.Errors)
	assert.Zero(t, st.TransportErrors)
	assert.Empty(t, st.LastError)
	text := logs.String()
	assert.NotContains(t, text, "level=WARN")
	assert.Equal(t, n, strings.Count(text, `level=DEBUG msg="rest: call ended by its caller"`), text)

	// The telemetry records them as calls that got no response.
	spans := kit.Named(http.MethodGet)
	require.Len(t, spans, n)
	canceled := 0
	for _, s := range spans {
		assert.Equal(t, codes.Error, s.Status.Code)
		if oteltest.Attrs(s.Attributes)["error.type"] == "canceled" {
			canceled++
		}
	}
	assert.Equal(t, n, canceled)
	dur := kit.Metric(t, "http.client.request.duration")
	assert.Equal(t, uint64(n), oteltest.Histogram(t, dur, attribute.String("error.type", "canceled")).Count)

	// The backend's own failures still count, and so does its silence
	// past the caller's deadline.
	dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer dcancel()
	_, err = c.Get(dctx, "hang")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the caller's deadline")
	_, err = c.Get(context.Background(), "fail")
	require.ErrorIs(t, err, ErrServerError)
	own, err := NewConn("crm", ConnConfig{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, Retry: RetryPolicy{MaxAttempts: 1}}, nil,
		AllowInsecureHTTP(), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	_, err = own.Get(context.Background(), "hang")
	require.Error(t, err)
	st = c.Stats()
	assert.Equal(t, int64(2), st.Calls)
	assert.Equal(t, int64(1), st.TransportErrors, "the caller's deadline passed")
	assert.Equal(t, int64(1), st.ServerErrors)
	assert.Contains(t, st.LastError, "GET "+srv.URL+"/fail: HTTP 500")
	ost := own.Stats()
	assert.Equal(t, int64(1), ost.TransportErrors, "the connection's own timeout is the backend's slowness")
	assert.Contains(t, ost.LastError, "timeout after 50ms")
	assert.Contains(t, logs.String(), `level=WARN msg="rest: call failed" conn=crm method=GET url=`+srv.URL+"/hang")
}
