package backends

import (
	"context"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/settings"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// The options of [Load], [Parse] and [Open] are rest.Option values: those
// of package rest (AllowInsecureHTTP, WithClock, WithLogger, WithReadFile,
// WithTransport, telemetry…) apply to every connection, token source and
// store of the configuration, and these add what only a whole
// configuration has.

// WithLookupEnv replaces os.LookupEnv for ${VAR} references (loading), e.g.
// to fill in the URLs of test servers.
func WithLookupEnv(lookup func(name string) (string, bool)) rest.Option {
	return func(s *settings.Settings) { s.LookupEnv = lookup }
}

// WithStore makes every OAuth definition share st instead of the store the
// configuration's store section names (opening). The registry does not
// close it.
func WithStore(st cache.Store) rest.Option { return func(s *settings.Settings) { s.Store = st } }

// WithStoreSection lets the store section hold, under name, the section of
// a store kept in another package: C is its configuration (a struct with
// yaml tags, whose oauthclient.Secret fields may be file: references),
// which Check validates at load time without connecting (reading the
// files it names with env.ReadFile) and Open makes a store of (closed with
// the registry when it is an io.Closer), for example
//
//	backends.Load(path, backends.WithStoreSection[redis.Config]("redis"))
//
// A program that does not pass it links none of that store's code (a
// service on the memory store links no Redis), and a file naming it fails
// to load with an error saying what to pass.
func WithStoreSection[C any, P interface {
	*C
	Check(env cache.Env) error
	Open(ctx context.Context, env cache.Env) (cache.Store, error)
}](name string) rest.Option {
	return func(s *settings.Settings) {
		if s.Sections == nil {
			s.Sections = map[string]func() settings.StoreSection{}
		}
		s.Sections[name] = func() settings.StoreSection { return P(new(C)) }
	}
}

// WithTokenOptions tunes the OAuth token sources (opening): renewal
// window, backoff, fleet lock lifetime, the client of token requests. Its
// Store, Now, Logger, MeterProvider, TracerProvider and AllowInsecureHTTP
// are ignored: they come from [WithStore] (or the store section),
// rest.WithClock, rest.WithLogger, rest.WithMeterProvider,
// rest.WithTracerProvider and rest.AllowInsecureHTTP.
func WithTokenOptions(o oauthclient.Options) rest.Option {
	return func(s *settings.Settings) { s.TokenOpts = o }
}
