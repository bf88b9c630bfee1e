package oauthclient

import (
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenwire/tokenwire/cache"
)

// Options is how sources behave at run time. A [Registry] gives the same
// Options to every source it builds. Every field is optional.
type Options struct {
	// Store is asked before the authorization server and receives every
	// token fetched, so that sources sharing it share tokens. If it also
	// implements cache.Locker, only one holder of the lock fetches while the
	// others wait for the token to appear. Default: none.
	Store cache.Store
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives fetch, renewal, backoff, store and resend events
	// (see the package documentation), never a secret or token. Default:
	// discard.
	Logger *slog.Logger
	// MeterProvider receives the tokenwire.token.* instruments listed in
	// the package documentation. Default otel.GetMeterProvider(): a service
	// that installs a global provider gets them, one that does not pays
	// next to nothing.
	MeterProvider metric.MeterProvider
	// TracerProvider receives the spans of token fetches. Default
	// otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// HTTPClient makes the token requests. Default: a new client that does
	// not follow redirects.
	HTTPClient *http.Client
	// RenewWindow returns how long before expiry a token of the given
	// lifetime is renewed in the background. Default [DefaultRenewWindow].
	RenewWindow func(lifetime time.Duration) time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed fetch before
	// the next one (exponential, with jitter, honouring Retry-After).
	// Default 1s and 5m.
	MinBackoff, MaxBackoff time.Duration
	// AllowInsecureHTTP lets sources use a plain-http token URL and lets
	// transports attach tokens to plain-http origins, which sends them in
	// clear: for tests against httptest servers only. Default false.
	AllowInsecureHTTP bool
	// LockTTL bounds how long the store's lock (cache.Locker: Redis's in
	// the fleet, the memory store's in the process) is held, and, twice
	// over on Now's clock, how long the others wait for its holder.
	// Default 10s.
	LockTTL time.Duration
	// MaxRecovery caps the wait after failures that may fix themselves
	// (an unreachable server, 5xx, 429 without Retry-After): how late a
	// server that answers again is noticed after a long outage. A
	// Retry-After is still honoured up to MaxBackoff, and errors that will
	// not go away (invalid_client…) back off up to MaxBackoff. Default 30s.
	MaxRecovery time.Duration
	// MaxBackoffWait is how long a caller with no valid token waits, during
	// a backoff, for the next permitted attempt (sharing it with every other
	// waiter) instead of failing at once with a *BackoffError — if its
	// context's deadline leaves room for it too. Default 3s; negative: never.
	MaxBackoffWait time.Duration
}

// defaultMaxRecovery is the default of Options.MaxRecovery.
const defaultMaxRecovery = 30 * time.Second

// defaultMaxBackoffWait is the default of Options.MaxBackoffWait.
const defaultMaxBackoffWait = 3 * time.Second

// DefaultRenewWindow renews a token when 10 % of its lifetime is left,
// at least 10s and at most 5m before expiry, and never earlier than half
// way through its lifetime.
func DefaultRenewWindow(lifetime time.Duration) time.Duration {
	w := lifetime / 10
	w = min(max(w, 10*time.Second), 5*time.Minute)
	return min(w, lifetime/2)
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MeterProvider == nil {
		o.MeterProvider = otel.GetMeterProvider()
	}
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.RenewWindow == nil {
		o.RenewWindow = DefaultRenewWindow
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.LockTTL <= 0 {
		o.LockTTL = 10 * time.Second
	}
	if o.MaxRecovery <= 0 {
		o.MaxRecovery = defaultMaxRecovery
	}
	if o.MaxBackoffWait == 0 {
		o.MaxBackoffWait = defaultMaxBackoffWait
	}
	return o
}
