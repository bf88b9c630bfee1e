package rest

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenwire/tokenwire/internal/settings"
)

// Option configures a connection ([NewConn]). The assembly (package
// rest/backends) takes the same options, and a few of its own, to load and
// open a configuration file, so that a test against plain-http fakes says
// [AllowInsecureHTTP] once for everything. Each option says where it
// matters.
type Option func(*settings.Settings)

// AllowInsecureHTTP accepts plain http:// URLs everywhere — base URLs,
// token endpoints, discovery documents — and lets tokens and credentials go
// to them in clear: for tests against httptest servers and local fakes
// only. It is the one switch for the whole assembly.
func AllowInsecureHTTP() Option { return func(s *settings.Settings) { s.Insecure = true } }

// WithReadFile replaces the file reader for every file the configuration
// names: file: references, private keys, TLS certificates, keys and CAs,
// the store's files (loading and opening) — except a security
// definition's cert_file and key_file, which its token source reads from
// disk, at load to check them and again when they are rotated. The default reads regular files only, at most 1 MiB.
func WithReadFile(read func(path string) ([]byte, error)) Option {
	return func(s *settings.Settings) { s.ReadFile = read }
}

// WithClock replaces time.Now everywhere: token expiry and renewal, the
// memory store, retry timing (opening, connections). It is the one clock
// option; tests move it instead of sleeping.
func WithClock(now func() time.Time) Option { return func(s *settings.Settings) { s.Now = now } }

// WithSleep replaces the wait between retries (connections), for tests that
// move the clock of [WithClock] instead of waiting.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *settings.Settings) { s.Sleep = sleep }
}

// WithLogger receives retries, failed calls, token fetches, renewals,
// backoffs and 401 resends, store failures and reloads; never a secret
// (opening, connections). It is the one logger of the assembly: token
// sources, connections and the store all log to it. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(s *settings.Settings) { s.Logger = l } }

// WithMeterProvider receives every instrument of the assembly: each
// connection's http.client.request.duration, the token sources'
// tokenwire.token.* and the store's tokenwire.store.* (opening,
// connections). Default otel.GetMeterProvider(): a service that installs a
// global provider needs no option.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(s *settings.Settings) { s.Meter = mp }
}

// WithTracerProvider receives the spans of every call — one client span
// per call, named after its method, with the HTTP semantic conventions'
// attributes, its retries, 401 resends and token waits as events — and of
// every token fetch (opening, connections). Default
// otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *settings.Settings) { s.Tracer = tp }
}

// WithPropagator writes the trace context of each call into its headers,
// e.g. propagation.TraceContext{} for W3C traceparent (connections).
// Default otel.GetTextMapPropagator(), which writes nothing until the
// service sets one; propagation.NewCompositeTextMapPropagator() writes
// nothing even then, for backends that must not see the service's trace
// ids.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(s *settings.Settings) { s.Propagate = p }
}

// WithTransport is the base transport under every connection's security,
// for tests or instrumentation (opening, connections). Default: one
// *http.Transport per connection, built from its tls and pool settings.
func WithTransport(rt http.RoundTripper) Option {
	return func(s *settings.Settings) { s.Transport = rt }
}
