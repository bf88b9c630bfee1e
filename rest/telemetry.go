package rest

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/internal/settings"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// instrumentation names the meter and tracer of this package.
const instrumentation = "github.com/tokenwire/tokenwire/rest"

// attrConnection names the connection of a call.
const attrConnection = attribute.Key("tokenwire.connection")

// durationBuckets are the HTTP semantic conventions' advice for
// http.client.request.duration, in seconds.
var durationBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// connTelemetry is a connection's tracer, instrument and propagator.
type connTelemetry struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	prop     propagation.TextMapPropagator
	conn     attribute.KeyValue
	host     string                             // of the base URL, with its port
	starts   map[string][]trace.SpanStartOption // by method, for calls to host: built once
}

// knownMethods are the methods the semantic conventions name as they are.
var knownMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodTrace, http.MethodConnect}

func newConnTelemetry(name string, base *url.URL, set *settings.Settings) *connTelemetry {
	mp, tp, prop := set.Meter, set.Tracer, set.Propagate
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if prop == nil {
		prop = otel.GetTextMapPropagator()
	}
	t := &connTelemetry{prop: prop, conn: attrConnection.String(name),
		tracer: tp.Tracer(instrumentation, trace.WithSchemaURL(semconv.SchemaURL))}
	m := mp.Meter(instrumentation, metric.WithSchemaURL(semconv.SchemaURL))
	t.duration, _ = m.Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."), metric.WithExplicitBucketBoundaries(durationBuckets[:]...))
	if t.duration == nil {
		t.duration, _ = noop.Meter{}.Float64Histogram("")
	}
	t.host, t.starts = base.Host, map[string][]trace.SpanStartOption{}
	for _, m := range knownMethods {
		t.starts[m] = t.startOptions(base, m, "")
	}
	return t
}

// startOptions are the options of a call's span: client kind, the
// connection, server and method.
func (t *connTelemetry) startOptions(u *url.URL, method, original string) []trace.SpanStartOption {
	kv := append(t.server(u), semconv.HTTPRequestMethodKey.String(method))
	if original != "" {
		kv = append(kv, semconv.HTTPRequestMethodOriginalKey.String(original))
	}
	return []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(kv...)}
}

// start starts the client span of a call and writes its trace context into
// req's headers (req is the connection's own copy). It returns req with
// the span's context.
func (t *connTelemetry) start(req *http.Request) (*http.Request, trace.Span) {
	method, original := semconvMethod(req.Method)
	name := method
	if method == "_OTHER" {
		name = "HTTP"
	}
	opts, ok := t.starts[method]
	if !ok || req.URL.Host != t.host {
		opts = t.startOptions(req.URL, method, original)
	}
	ctx, span := t.tracer.Start(req.Context(), name, opts...)
	if !span.SpanContext().IsValid() {
		return req, span // no tracing at all: nothing to carry or propagate
	}
	if span.IsRecording() {
		span.SetAttributes(semconv.URLFullKey.String(attrURL(req.URL)))
	}
	req = req.WithContext(ctx)
	t.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
	return req, span
}

// server returns the attributes naming the connection and the server.
func (t *connTelemetry) server(u *url.URL) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 7)
	return append(kv, t.conn, semconv.ServerAddressKey.String(u.Hostname()), semconv.ServerPortKey.Int(serverPort(u)))
}

// end records the call's duration and ends its span: status code, error
// type, resends, and an error status for a transport error or a status of
// 400 or more (the semantic conventions' rule for client spans).
func (t *connTelemetry) end(ctx context.Context, span trace.Span, req *http.Request, resp *http.Response, attempts int, err error, d time.Duration) {
	var status int
	if resp != nil {
		status = resp.StatusCode
	}
	on, recording := t.duration.Enabled(ctx), span.IsRecording()
	if !on && !recording {
		span.End()
		return
	}
	etype := errorType(status, err)
	if on {
		method, _ := semconvMethod(req.Method)
		kv := append(t.server(req.URL), semconv.HTTPRequestMethodKey.String(method))
		kv = outcomeAttrs(kv, status, etype)
		t.duration.Record(ctx, d.Seconds(), metric.WithAttributes(kv...))
	}
	if recording {
		span.SetAttributes(outcomeAttrs(nil, status, etype)...)
		if attempts > 1 {
			span.SetAttributes(semconv.HTTPRequestResendCountKey.Int(attempts - 1))
		}
		if err != nil || status >= 400 {
			span.SetStatus(codes.Error, causeText(err))
		}
	}
	span.End()
}

// causeText is the redacted cause of a failed call, without its URL (whose
// query values an error shows); "" for none.
func causeText(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e) && e.Err != nil:
		return e.Err.Error()
	}
	return err.Error()
}

// outcomeAttrs appends the status code and error type, when there are.
func outcomeAttrs(kv []attribute.KeyValue, status int, etype string) []attribute.KeyValue {
	if status != 0 {
		kv = append(kv, semconv.HTTPResponseStatusCodeKey.Int(status))
	}
	if etype != "" {
		kv = append(kv, semconv.ErrorTypeKey.String(etype))
	}
	return kv
}

// retrying adds an event for a retry to the call's span: which attempt
// failed, how, and the wait before the next.
func retrying(ctx context.Context, attempt int, resp *http.Response, err error, wait time.Duration) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	var status int
	if resp != nil {
		status = resp.StatusCode
	}
	kv := outcomeAttrs([]attribute.KeyValue{semconv.HTTPRequestResendCountKey.Int(attempt),
		attribute.Float64("tokenwire.retry.wait", wait.Seconds())}, status, errorType(status, err))
	span.AddEvent("tokenwire.retry", trace.WithAttributes(kv...))
}

// semconvMethod returns the method as the semantic conventions name it:
// a known method as it is, any other as "_OTHER" with the original.
func semconvMethod(m string) (method, original string) {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodTrace, http.MethodConnect:
		return m, ""
	case "":
		return http.MethodGet, ""
	}
	return "_OTHER", m
}

// serverPort is u's port, explicit or the scheme's.
func serverPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

// attrURL is u for an attribute: no user info, no fragment, every query
// value replaced by the redaction mark (values are data: ids, search
// terms, keys).
func attrURL(u *url.URL) string { return redact.URL(u, nil) }

// errorType is the error.type of a call: its status code from 400 on, or
// a short name for a call that got no response.
func errorType(status int, err error) string {
	switch {
	case err != nil:
		return failureType(err)
	case status >= 400:
		return strconv.Itoa(status)
	}
	return ""
}

// failureType names the failure of a call that got no response.
func failureType(err error) string {
	var (
		te      interface{ Timeout() bool }
		op      *net.OpError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, oauthclient.ErrNoToken):
		return "no_token"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &te) && te.Timeout():
		return "timeout"
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid):
		return "tls_certificate"
	case errors.As(err, &op) && op.Op == "dial":
		return "connect"
	}
	return "_OTHER"
}
