package oauthclient

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
	"weak"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names the meter and tracer of this package.
const instrumentation = "github.com/tokenwire/tokenwire/oauthclient"

// The attributes of the tokenwire.token.* instruments and spans; the
// package documentation lists their values.
const (
	attrDefinition = attribute.Key("tokenwire.definition")
	attrGrant      = attribute.Key("tokenwire.grant")
	attrOutcome    = attribute.Key("tokenwire.outcome")
	attrResult     = attribute.Key("tokenwire.cache.result")
	attrTrigger    = attribute.Key("tokenwire.fetch.trigger")
	attrReason     = attribute.Key("tokenwire.resend.reason")
)

// The triggers of a shared fetch.
const (
	triggerBackground = "background" // a renewal ahead of expiry: nobody waits
	triggerCaller     = "caller"     // a caller without a valid token waits for it
)

// The grants a source reports: its fetcher's, or "custom" for
// [NewSourceFrom] with a fetcher of the user's (the others are in
// grant.go).
const (
	grantClientCredentials = "client_credentials"
	grantCustom            = "custom"
)

// durationBuckets are the boundaries (seconds) of the duration histograms:
// the HTTP semantic conventions' advice, token endpoints being HTTP calls.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// telemetry is one source's instruments, tracer and precomputed attribute
// sets. The hot path touches none of it: what it counts goes to [counts],
// which the observable instruments read at collection time.
type telemetry struct {
	tracer   trace.Tracer
	requests metric.Int64Counter
	duration metric.Float64Histogram
	fetches  metric.Int64Counter
	waits    metric.Float64Histogram
	resends  metric.Int64Counter

	lookups metric.Int64ObservableCounter
	expiry  metric.Float64ObservableGauge
	backoff metric.Float64ObservableGauge

	base    []attribute.KeyValue // definition and grant
	defOnly []metric.ObserveOption
	results [4][]metric.ObserveOption // by cache result: fresh, stale, miss, store

	once sync.Once
	reg  metric.Registration
}

// newTelemetry builds s's instruments from s.opts and registers the
// callback of its observable ones. The callback holds s weakly: a source
// that is dropped without Close is collected, and its callback then goes.
func newTelemetry(s *Source, grant string) *telemetry {
	m := s.opts.MeterProvider.Meter(instrumentation)
	t := &telemetry{tracer: s.opts.TracerProvider.Tracer(instrumentation),
		base: []attribute.KeyValue{attrDefinition.String(s.name), attrGrant.String(grant)}}
	t.instruments(m)
	def := attribute.NewSet(attrDefinition.String(s.name))
	t.defOnly = []metric.ObserveOption{metric.WithAttributeSet(def)}
	for i, r := range []string{"fresh", "stale", "miss", "store"} {
		set := attribute.NewSet(attrDefinition.String(s.name), attrResult.String(r))
		t.results[i] = []metric.ObserveOption{metric.WithAttributeSet(set)}
	}
	wp := weak.Make(s)
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		// t, not s.tel: a collection may run before newTelemetry returns.
		if s := wp.Value(); s != nil {
			s.observe(o, t)
		}
		return nil
	}, t.lookups, t.expiry, t.backoff)
	if err == nil {
		t.reg = reg
		runtime.AddCleanup(s, func(t *telemetry) { t.unregister() }, t)
	}
	return t
}

// instruments creates the instruments. The names are valid, so a
// provider has no reason to refuse one; one that returns none anyway gets a
// no-op, so that telemetry never fails a source.
func (t *telemetry) instruments(m metric.Meter) {
	unit, desc, buckets := metric.WithUnit, metric.WithDescription, metric.WithExplicitBucketBoundaries(durationBuckets...)
	t.requests, _ = m.Int64Counter("tokenwire.token.requests", unit("{request}"),
		desc("Token requests made by the fetcher, by outcome."))
	t.duration, _ = m.Float64Histogram("tokenwire.token.request.duration", unit("s"),
		desc("Duration of token requests."), buckets)
	t.fetches, _ = m.Int64Counter("tokenwire.token.fetches", unit("{fetch}"),
		desc("Shared fetches started: renewals in the background, or for callers that wait."))
	t.waits, _ = m.Float64Histogram("tokenwire.token.wait.duration", unit("s"),
		desc("How long callers without a valid token waited for one."), buckets)
	t.resends, _ = m.Int64Counter("tokenwire.token.resends", unit("{resend}"),
		desc("Requests the Transport resent after a backend rejected the token or asked for a DPoP nonce."))
	t.lookups, _ = m.Int64ObservableCounter("tokenwire.token.cache.lookups", unit("{lookup}"),
		desc("Token lookups by result: fresh, stale (served while renewing), miss (the caller waited), store (taken from the shared store)."))
	t.expiry, _ = m.Float64ObservableGauge("tokenwire.token.expiry", unit("s"),
		desc("Seconds until the current token expires (negative once expired); absent without a token."))
	t.backoff, _ = m.Float64ObservableGauge("tokenwire.token.backoff", unit("s"),
		desc("Seconds until the next token request is permitted after failures; 0 when not backing off."))
	t.noopNil()
}

// noopNil replaces the instruments a provider did not return by no-ops.
func (t *telemetry) noopNil() {
	var nm noop.Meter
	if t.requests == nil {
		t.requests, _ = nm.Int64Counter("")
	}
	if t.duration == nil {
		t.duration, _ = nm.Float64Histogram("")
	}
	if t.fetches == nil {
		t.fetches, _ = nm.Int64Counter("")
	}
	if t.waits == nil {
		t.waits, _ = nm.Float64Histogram("")
	}
	if t.resends == nil {
		t.resends, _ = nm.Int64Counter("")
	}
	if t.lookups == nil {
		t.lookups, _ = nm.Int64ObservableCounter("")
	}
	if t.expiry == nil {
		t.expiry, _ = nm.Float64ObservableGauge("")
	}
	if t.backoff == nil {
		t.backoff, _ = nm.Float64ObservableGauge("")
	}
}

// unregister removes the observable instruments' callback, once.
func (t *telemetry) unregister() {
	t.once.Do(func() {
		if t.reg != nil {
			_ = t.reg.Unregister()
		}
	})
}

// observe reports s's counts and gauges at collection time.
func (s *Source) observe(o metric.Observer, t *telemetry) {
	for i, n := range s.counts.lookups() {
		o.ObserveInt64(t.lookups, n, t.results[i]...)
	}
	now := s.opts.Now()
	if c := s.cur.Load(); c != nil {
		o.ObserveFloat64(t.expiry, c.tok.expiry.Sub(now).Seconds(), t.defOnly...)
	}
	o.ObserveFloat64(t.backoff, max(time.Unix(0, s.notBefore.Load()).Sub(now), 0).Seconds(), t.defOnly...)
}

// attrs returns the base attributes followed by extra.
func (t *telemetry) attrs(extra ...attribute.KeyValue) metric.MeasurementOption {
	kv := make([]attribute.KeyValue, 0, len(t.base)+len(extra))
	return metric.WithAttributes(append(append(kv, t.base...), extra...)...)
}

// requested records one token request.
func (t *telemetry) requested(ctx context.Context, d time.Duration, err error) {
	o := t.attrs(attrOutcome.String(outcome(err)))
	t.requests.Add(ctx, 1, o)
	t.duration.Record(ctx, d.Seconds(), o)
}

// heldBack records a refresh token held back (ErrRefreshUncertain): no
// request was made, so only the counter shows it.
func (t *telemetry) heldBack(ctx context.Context) {
	t.requests.Add(ctx, 1, t.attrs(attrOutcome.String(outcomeHeldBack)))
}

// outcomeHeldBack is the outcome of a refresh token held back.
const outcomeHeldBack = "refresh_uncertain"

// fetchStarted records the start of a shared fetch and returns its span,
// a root span linked to the callers waiting for it.
func (t *telemetry) fetchStarted(trigger string, links []trace.Link) (context.Context, trace.Span) {
	ctx := context.Background()
	t.fetches.Add(ctx, 1, t.attrs(attrTrigger.String(trigger)))
	kv := append(append([]attribute.KeyValue{}, t.base...), attrTrigger.String(trigger))
	return t.tracer.Start(ctx, "tokenwire.token.fetch", trace.WithNewRoot(), trace.WithLinks(links...),
		trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(kv...))
}

// fetchEnded ends a shared fetch's span; the status text is scrubbed of
// the definition's secrets (a transport may have echoed the request).
func (s *Source) fetchEnded(span trace.Span, err error) {
	span.SetAttributes(attrOutcome.String(outcome(err)))
	if err != nil {
		span.SetStatus(otelcodes.Error, s.errText(err))
	}
	span.End()
}

// waited records how long a caller waited for a token, on the histogram
// and as an event of the caller's span.
func (t *telemetry) waited(ctx context.Context, d time.Duration, err error) {
	res := "success"
	if err != nil {
		res = "error"
	}
	t.waits.Record(ctx, d.Seconds(), t.attrs(attrOutcome.String(res)))
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("tokenwire.token.wait", trace.WithAttributes(t.base[0], attrOutcome.String(res), attribute.Float64("tokenwire.wait.seconds", d.Seconds())))
	}
}

// resent records a resend of the Transport, on the counter and as an event
// of the request's span.
func (t *telemetry) resent(ctx context.Context, reason string) {
	t.resends.Add(ctx, 1, t.attrs(attrReason.String(reason)))
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("tokenwire.token.resend", trace.WithAttributes(t.base[0], attrReason.String(reason)))
	}
}

// outcome names the result of a token request with a bounded set of
// values: "success", an RFC 6749/8707/9449 error code, "malformed_response",
// "http_error" (an HTTP error status without a code), "timeout",
// "canceled", "closed" or "error".
func outcome(err error) string {
	var e *Error
	switch {
	case err == nil:
		return "success"
	case errors.As(err, &e):
		return errorOutcome(e)
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, ErrRefreshUncertain):
		return outcomeHeldBack
	case errors.Is(err, context.DeadlineExceeded), timeout(err):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

func errorOutcome(e *Error) string {
	for _, code := range codes {
		if code == e.Code {
			return code
		}
	}
	switch {
	case errors.Is(e.Err, ErrMalformedResponse):
		return "malformed_response"
	case e.Code != "":
		return "other_code" // a vendor's own code: not an attribute value (cardinality)
	}
	return "http_error"
}

// timeout reports whether err says it is a timeout (net.Error and ours).
func timeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
