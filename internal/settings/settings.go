// Package settings holds what the options of package rest set, so that
// the assembly (rest/backends) reads the same options a connection does:
// one switch for plain-http tests, one clock, one logger, one file reader.
// Users never see it: they write rest.AllowInsecureHTTP(), rest.WithClock…
package settings

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

// StoreSection is the section of a store kept in another package
// (cache/redis's *Config), as backends.WithStoreSection describes it.
type StoreSection interface {
	Check(env cache.Env) error
	Open(ctx context.Context, env cache.Env) (cache.Store, error)
}

// Settings is what the options set; the zero value is production.
type Settings struct {
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
	Insecure  bool
	Sections  map[string]func() StoreSection // store sections kept in other packages, by key
	Store     cache.Store
	Now       func() time.Time
	Sleep     func(context.Context, time.Duration) error
	Logger    *slog.Logger
	Transport http.RoundTripper
	TokenOpts oauthclient.Options
	Meter     metric.MeterProvider          // nil: the global one
	Tracer    trace.TracerProvider          // nil: the global one
	Propagate propagation.TextMapPropagator // nil: the global one
}

// New applies opts, in order, to zero settings.
func New[O ~func(*Settings)](opts ...[]O) *Settings {
	s := &Settings{}
	for _, list := range opts {
		for _, o := range list {
			o(s)
		}
	}
	return s
}

// Read reads a file the configuration names, through the injected reader
// or the bounded reader of regular files, and refuses more than
// files.MaxSize bytes either way.
func (s *Settings) Read(path string) ([]byte, error) {
	read := s.ReadFile
	if read == nil {
		read = files.Read
	}
	b, err := read(path)
	if err != nil {
		return nil, err
	}
	if len(b) > files.MaxSize {
		return nil, files.ErrTooLarge
	}
	return b, nil
}

// OAuthOptions are the token sources' options under these settings.
func (s *Settings) OAuthOptions(st cache.Store) oauthclient.Options {
	o := s.TokenOpts
	o.Store, o.Now, o.Logger, o.AllowInsecureHTTP = st, s.Now, s.Logger, s.Insecure
	o.MeterProvider, o.TracerProvider = s.Meter, s.Tracer
	return o
}

// StoreEnv is what a shared store's section is checked and opened with.
func (s *Settings) StoreEnv() cache.Env {
	return cache.Env{Now: s.Now, Logger: s.Logger, ReadFile: s.Read, MeterProvider: s.Meter}
}
