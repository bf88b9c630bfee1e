package oauthclient

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	otelcodes "go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/oauth2"

	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

const telSecret = "Tel-s3cret-9f2e"

// tickingRT moves the test clock by d during every token request, so that
// durations have a known value.
type tickingRT struct {
	clk *clock
	d   time.Duration
}

func (rt tickingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.clk.Advance(rt.d)
	return http.DefaultTransport.RoundTrip(r)
}

// telSetup returns a client-credentials source on the fake authorization
// server, instrumented into kit and logging into logs at debug level.
func telSetup(t *testing.T, kit *oteltest.Kit, clientSecret string) (*Source, *oauthtest.Server, *clock, *logbuf.Buffer) {
	t.Helper()
	clk := newClock()
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now), oauthtest.WithTokenLifetime(time.Hour))
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: telSecret})
	logs := &logbuf.Buffer{}
	src, err := NewSource(Config{Name: "crm", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: NewSecret(clientSecret)}, Options{
		AllowInsecureHTTP: true, Now: clk.Now, HTTPClient: &http.Client{Transport: tickingRT{clk, 250 * time.Millisecond}},
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MeterProvider: kit.MeterProvider, TracerProvider: kit.TracerProvider,
	})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	return src, as, clk, logs
}

var (
	defCRM  = attrDefinition.String("crm")
	grantCC = attrGrant.String(grantClientCredentials)
)

// A caller that waits, a request through the Transport rejected once with
// 401, and a renewal in the background: every instrument, span and log line
// says so, with its unit and attributes, and none carries a secret.
func TestTokenTelemetry(t *testing.T) {
	kit := oteltest.New(t)
	src, as, clk, logs := telSetup(t, kit, telSecret)

	ctx, caller := kit.TracerProvider.Tracer("test").Start(context.Background(), "caller")
	_, err := src.TokenContext(ctx) // a miss: this caller waits for the first fetch
	require.NoError(t, err)
	caller.End()

	var hits atomic.Int32
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	t.Cleanup(api.Close)
	first := true
	tr, err := NewTransport(src, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hits.Add(1)
		if first { // the backend rejects the first token once
			first = false
			return &http.Response{StatusCode: http.StatusUnauthorized, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	}), api.URL)
	require.NoError(t, err)
	rctx, call := kit.TracerProvider.Tracer("test").Start(context.Background(), "GET")
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, api.URL+"/x", nil)
	resp, err := tr.RoundTrip(req) // a fresh lookup, a 401, a fetch for this caller, a resend
	require.NoError(t, err)
	resp.Body.Close()
	call.End()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	clk.Advance(56 * time.Minute) // into the renewal window of the 1 h token
	_, err = src.TokenContext(context.Background())
	require.NoError(t, err) // a stale lookup; the renewal runs in the background
	// Its end is logged after its metrics and span, by its own goroutine,
	// which may not have started yet.
	logs.WaitFor(t, `msg="oauthclient: token obtained" definition=crm trigger=background`)

	t.Run("metrics", func(t *testing.T) {
		ms := kit.Metrics(t)
		req := ms["tokenwire.token.requests"]
		assert.Equal(t, "{request}", req.Unit)
		assert.EqualValues(t, 3, oteltest.Sum(t, req, defCRM, grantCC, attrOutcome.String("success")))
		dur := ms["tokenwire.token.request.duration"]
		assert.Equal(t, "s", dur.Unit)
		dp := oteltest.Histogram(t, dur, defCRM, grantCC, attrOutcome.String("success"))
		assert.EqualValues(t, 3, dp.Count)
		assert.InDelta(t, 0.75, dp.Sum, 1e-9, "three requests of 250 ms on the test clock")

		fetches := ms["tokenwire.token.fetches"]
		assert.EqualValues(t, 2, oteltest.Sum(t, fetches, defCRM, attrTrigger.String("caller")))
		assert.EqualValues(t, 1, oteltest.Sum(t, fetches, defCRM, attrTrigger.String("background")))
		wait := oteltest.Histogram(t, ms["tokenwire.token.wait.duration"], defCRM, attrOutcome.String("success"))
		assert.EqualValues(t, 2, wait.Count, "two callers waited")
		assert.InDelta(t, 0.5, wait.Sum, 1e-9)

		assert.EqualValues(t, 1, oteltest.Sum(t, ms["tokenwire.token.resends"], defCRM, attrReason.String("unauthorized")))
		lookups := ms["tokenwire.token.cache.lookups"]
		for result, want := range map[string]int64{"fresh": 1, "stale": 1, "miss": 2, "store": 0} {
			assert.Equal(t, want, oteltest.Sum(t, lookups, defCRM, attrResult.String(result)), result)
		}
		exp, ok := oteltest.Gauge(t, ms["tokenwire.token.expiry"], defCRM)
		require.True(t, ok)
		assert.InDelta(t, 3600, exp, 1e-9, "the renewed token has its whole hour ahead")
		backoff, ok := oteltest.Gauge(t, ms["tokenwire.token.backoff"], defCRM)
		require.True(t, ok)
		assert.Zero(t, backoff)
	})

	t.Run("spans", func(t *testing.T) {
		fetches := kit.Named("tokenwire.token.fetch")
		require.Len(t, fetches, 3)
		for _, s := range fetches {
			assert.False(t, s.Parent.IsValid(), "a fetch is a root span: it outlives any one caller")
			assert.Equal(t, "success", oteltest.Attrs(s.Attributes)["tokenwire.outcome"])
			assert.Equal(t, "crm", oteltest.Attrs(s.Attributes)["tokenwire.definition"])
		}
		assert.Equal(t, "caller", oteltest.Attrs(fetches[0].Attributes)["tokenwire.fetch.trigger"])
		require.Len(t, fetches[0].Links, 1)
		assert.Equal(t, caller.SpanContext().SpanID(), fetches[0].Links[0].SpanContext.SpanID(), "linked to the caller that waited")
		require.Len(t, fetches[1].Links, 1)
		assert.Equal(t, call.SpanContext().SpanID(), fetches[1].Links[0].SpanContext.SpanID())
		assert.Equal(t, "background", oteltest.Attrs(fetches[2].Attributes)["tokenwire.fetch.trigger"])
		assert.Empty(t, fetches[2].Links, "nobody waits for a background renewal")

		assert.Equal(t, []string{"tokenwire.token.wait"}, eventNames(kit.Named("caller")[0].Events))
		assert.Equal(t, []string{"tokenwire.token.wait", "tokenwire.token.resend"}, eventNames(kit.Named("GET")[0].Events))
	})

	t.Run("logs", func(t *testing.T) {
		out := logs.String()
		assert.Contains(t, out, `msg="oauthclient: token obtained" definition=crm trigger=caller`)
		assert.Contains(t, out, `msg="oauthclient: token obtained" definition=crm trigger=background`)
		assert.Contains(t, out, `level=INFO msg="oauthclient: the backend rejected the token (401); resending once with a fresh one" definition=crm method=GET`)
		assert.Contains(t, out, `level=DEBUG msg="oauthclient: renewing the token in the background" definition=crm`)
	})

	t.Run("no secret", func(t *testing.T) {
		all := logs.String() + kit.Text(t)
		assert.NotContains(t, all, telSecret)
		for _, tok := range as.SeenTokens() {
			assert.NotContains(t, all, tok)
		}
	})

	st := src.Status()
	assert.Equal(t, TokenFresh, st.State)
	assert.Equal(t, Lookups{Fresh: 1, Stale: 1, Miss: 2}, st.Lookups)
	assert.EqualValues(t, 3, st.Requests)
	assert.EqualValues(t, 1, st.Resends)
}

func eventNames(evs []sdktrace.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Name)
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A rejected client: the request is counted by its RFC code, the fetch
// span has an error status, the backoff gauge shows the wait, the log
// warns, the status shows the error — and the secret is nowhere.
func TestTokenTelemetryFailure(t *testing.T) {
	kit := oteltest.New(t)
	wrong := "Wrong-s3cret-77aa"
	src, _, _, logs := telSetup(t, kit, wrong)

	_, err := src.TokenContext(context.Background())
	require.ErrorIs(t, err, ErrInvalidClient)

	ms := kit.Metrics(t)
	assert.EqualValues(t, 1, oteltest.Sum(t, ms["tokenwire.token.requests"], defCRM, attrOutcome.String("invalid_client")))
	backoff, ok := oteltest.Gauge(t, ms["tokenwire.token.backoff"], defCRM)
	require.True(t, ok)
	assert.Greater(t, backoff, 0.0)
	_, ok = oteltest.Gauge(t, ms["tokenwire.token.expiry"], defCRM)
	assert.False(t, ok, "no token, no expiry")
	assert.EqualValues(t, 1, oteltest.Histogram(t, ms["tokenwire.token.wait.duration"], defCRM, attrOutcome.String("error")).Count)

	spans := kit.Named("tokenwire.token.fetch")
	require.Len(t, spans, 1)
	assert.Equal(t, otelcodes.Error, spans[0].Status.Code)
	assert.Contains(t, spans[0].Status.Description, "invalid_client")

	assert.Contains(t, logs.String(), `level=WARN msg="oauthclient: token fetch failed; backing off" definition=crm trigger=caller failures=1`)
	st := src.Status()
	assert.Equal(t, TokenBackingOff, st.State)
	assert.Contains(t, st.LastError, "invalid_client")
	assert.EqualValues(t, 1, st.RequestFailures)
	assert.False(t, st.BackoffUntil.IsZero())

	all := logs.String() + kit.Text(t) + st.LastError
	assert.NotContains(t, all, wrong)
	assert.NotContains(t, all, telSecret)
}

// Close unregisters the observable instruments: a closed source reports
// nothing more.
func TestClosedSourceStopsReporting(t *testing.T) {
	kit := oteltest.New(t)
	clk := newClock()
	src := NewSourceFrom("gone", &fakeFetcher{clk: clk, life: time.Hour}, Options{Now: clk.Now, MeterProvider: kit.MeterProvider, TracerProvider: kit.TracerProvider})
	_, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	gone := attrDefinition.String("gone")
	_, ok := oteltest.Gauge(t, kit.Metric(t, "tokenwire.token.expiry"), gone)
	require.True(t, ok)
	src.Close()
	_, ok = oteltest.Gauge(t, kit.Metrics(t)["tokenwire.token.backoff"], gone)
	assert.False(t, ok)
}

// The outcomes are a bounded set: a vendor's own error code is not one.
func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, "success"},
		{"rfc code", &Error{Code: "invalid_scope", StatusCode: 400}, "invalid_scope"},
		{"vendor code", &Error{Code: "acme_quota_exceeded_for_tenant_4711", StatusCode: 400}, "other_code"},
		{"malformed", &Error{StatusCode: 200, Err: ErrMalformedResponse}, "malformed_response"},
		{"status only", &Error{StatusCode: 502}, "http_error"},
		{"deadline", context.DeadlineExceeded, "timeout"},
		{"canceled", context.Canceled, "canceled"},
		{"closed", ErrClosed, "closed"},
		{"other", io.ErrUnexpectedEOF, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, outcome(tt.err)) })
	}
}

// TestCollectionWhileSourcesAreCreated: an SDK reader collecting while
// sources are made and closed never sees a half-built source.
func TestCollectionWhileSourcesAreCreated(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			src := NewSourceFrom("d", FromOAuth2(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})), Options{MeterProvider: mp})
			src.Close()
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		}
	}
}
