package rest

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/files"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// Option configures loading a configuration ([LoadConfig], [ParseConfig]),
// opening it ([Open]) or building one connection ([NewConn]). Options given
// to the loader are remembered by the [Config] it returns and apply to
// [Open] as well, so a test against plain-http fakes says
// [AllowInsecureHTTP] once. Each option says where it matters.
type Option func(*settings)

// settings is what the options set; the zero value is production.
type settings struct {
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
	insecure  bool
	drivers   map[string]StoreDriver
	store     cache.Store
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	logger    *slog.Logger
	transport http.RoundTripper
	tokenOpts oauthclient.Options
	meter     metric.MeterProvider          // nil: the global one
	tracer    trace.TracerProvider          // nil: the global one
	propagate propagation.TextMapPropagator // nil: the global one
}

func newSettings(inherited []Option, opts []Option) *settings {
	s := &settings{}
	for _, o := range inherited {
		o(s)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// AllowInsecureHTTP accepts plain http:// URLs everywhere — base URLs,
// token endpoints, discovery documents — and lets tokens and credentials go
// to them in clear: for tests against httptest servers and local fakes
// only. It is the one switch for the whole assembly.
func AllowInsecureHTTP() Option { return func(s *settings) { s.insecure = true } }

// WithLookupEnv replaces os.LookupEnv for ${VAR} references (loading), e.g.
// to fill in the URLs of test servers.
func WithLookupEnv(lookup func(name string) (string, bool)) Option {
	return func(s *settings) { s.lookupEnv = lookup }
}

// WithReadFile replaces the file reader for every file the configuration
// names: file: references, private keys, TLS certificates, keys and CAs,
// the store's files (loading and opening). The default reads regular files
// only, at most [MaxFileSize] bytes.
func WithReadFile(read func(path string) ([]byte, error)) Option {
	return func(s *settings) { s.readFile = read }
}

// WithStoreDriver lets the store section name a store kept in another
// package, such as cache/redis's: rest.WithStoreDriver(redis.Driver{}).
// A program that does not pass it links none of that store's code, and a
// file naming it fails to load with an error saying what to pass.
func WithStoreDriver(d StoreDriver) Option {
	return func(s *settings) {
		if s.drivers == nil {
			s.drivers = map[string]StoreDriver{}
		}
		s.drivers[d.StoreName()] = d
	}
}

// WithStore makes every OAuth definition share st instead of the store the
// configuration's store section names (opening). The registry does not
// close it.
func WithStore(st cache.Store) Option { return func(s *settings) { s.store = st } }

// WithClock replaces time.Now everywhere: token expiry and renewal, the
// memory store, retry timing (opening, connections). It is the one clock
// option; tests move it instead of sleeping.
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithSleep replaces the wait between retries (connections), for tests that
// move the clock of [WithClock] instead of waiting.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *settings) { s.sleep = sleep }
}

// WithLogger receives retries, failed calls, token fetches, renewals,
// backoffs and 401 resends, store failures and reloads; never a secret
// (opening, connections). It is the one logger of the assembly: token
// sources, connections and the store all log to it. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithMeterProvider receives every instrument of the assembly: each
// connection's http.client.request.duration, the token sources'
// tokenwire.token.* and the store's tokenwire.store.* (opening,
// connections). Default otel.GetMeterProvider(): a service that installs a
// global provider needs no option.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(s *settings) { s.meter = mp } }

// WithTracerProvider receives the spans of every call — one client span
// per call, named after its method, with the HTTP semantic conventions'
// attributes, its retries, 401 resends and token waits as events — and of
// every token fetch (opening, connections). Default
// otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option { return func(s *settings) { s.tracer = tp } }

// WithPropagator writes the trace context of each call into its headers,
// e.g. propagation.TraceContext{} for W3C traceparent (connections).
// Default otel.GetTextMapPropagator(), which writes nothing until the
// service sets one; propagation.NewCompositeTextMapPropagator() writes
// nothing even then, for backends that must not see the service's trace
// ids.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(s *settings) { s.propagate = p }
}

// WithTransport is the base transport under every connection's security,
// for tests or instrumentation (opening, connections). Default: one
// *http.Transport per connection, built from its tls and pool settings.
func WithTransport(rt http.RoundTripper) Option { return func(s *settings) { s.transport = rt } }

// WithTokenOptions tunes the OAuth token sources (opening): renewal
// window, backoff, fleet lock lifetime, the client of token requests. Its
// Store, Now, Logger, MeterProvider, TracerProvider and AllowInsecureHTTP
// are ignored: they come from [WithStore] (or the store section),
// [WithClock], [WithLogger], [WithMeterProvider], [WithTracerProvider] and
// [AllowInsecureHTTP].
func WithTokenOptions(o oauthclient.Options) Option {
	return func(s *settings) { s.tokenOpts = o }
}

// oauthOptions are the token sources' options under these settings.
func (s *settings) oauthOptions(st cache.Store) oauthclient.Options {
	o := s.tokenOpts
	o.Store, o.Now, o.Logger, o.AllowInsecureHTTP = st, s.now, s.logger, s.insecure
	o.MeterProvider, o.TracerProvider = s.meter, s.tracer
	return o
}

// MaxFileSize bounds every file the configuration names, and the
// configuration file itself: 1 MiB.
const MaxFileSize = files.MaxSize

// read reads a file the configuration names, through the injected reader
// or the bounded reader of regular files, and refuses more than
// MaxFileSize bytes either way.
func (s *settings) read(path string) ([]byte, error) {
	read := s.readFile
	if read == nil {
		read = files.Read
	}
	b, err := read(path)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, files.ErrTooLarge
	}
	return b, nil
}

// storeEnv is what a shared store's section is checked and opened with.
func (s *settings) storeEnv() cache.Env {
	return cache.Env{Now: s.now, Logger: s.logger, ReadFile: s.read, MeterProvider: s.meter}
}
