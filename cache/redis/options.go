package redis

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// Defaults applied by [New] to zero fields of [Options].
const (
	defaultPrefix    = "tokenwire:"
	defaultOpTimeout = 200 * time.Millisecond
	defaultCooldown  = 5 * time.Second
	// KeySize is the length of an encryption key: AES-256.
	KeySize = 32
)

// Options configures a [Store]. Every field is optional except that either
// Keys or Plaintext must be set. encoding/json and YAML leave out the keys
// and the hooks; fmt prints no key (see [Options.Format]).
type Options struct {
	// Prefix starts every Redis key the store writes. Default "tokenwire:".
	// It should not contain '{' or '}': the store puts a Redis Cluster hash
	// tag after it.
	Prefix string

	// Keys are AES-256 keys (KeySize bytes each). The first encrypts; all
	// are tried when decrypting, so a key is rotated by putting the new one
	// first and removing the old one after the longest token lifetime.
	Keys [][]byte `json:"-" yaml:"-"`

	// Plaintext stores values unencrypted. It must be set explicitly when
	// Keys is empty, and may not be combined with Keys.
	Plaintext bool

	// OpTimeout bounds each Redis operation. Default 200ms. A
	// client built by [Config.Client] honours it; a client you build must
	// set ContextTimeoutEnabled for a slow (not down) Redis to be cut off.
	OpTimeout time.Duration

	// Cooldown is how long Redis is skipped after a failed operation before
	// it is tried again. Default 5s.
	Cooldown time.Duration

	// Fallback serves Get, Set and Delete while Redis fails, and receives a
	// copy of every entry. Default cache.NewMemory(0, cache.WithClock(Now)).
	Fallback cache.Store `json:"-" yaml:"-"`

	// Now is the clock for expiry checks and the cool-down. Default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`

	// Logger receives failures and recoveries, never a key or a value.
	// Default: discard.
	Logger *slog.Logger `json:"-" yaml:"-"`

	// MeterProvider receives the tokenwire.store.* instruments (see the
	// package documentation). Default otel.GetMeterProvider().
	MeterProvider metric.MeterProvider `json:"-" yaml:"-"`
}

// Format prints the options without the keys whatever the verb. fmt's %p
// of an Options value, which no method intercepts, shows the exported
// bytes: print a pointer, or nothing.
func (o Options) Format(f fmt.State, _ rune) { redact.Format(f, o.describe()) }

func (o Options) describe() string {
	return fmt.Sprintf("redis.Options{Prefix:%q Keys:%d %s Plaintext:%t OpTimeout:%s Cooldown:%s}",
		o.Prefix, len(o.Keys), redact.Mark, o.Plaintext, o.OpTimeout, o.Cooldown)
}

// withDefaults validates o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	switch {
	case len(o.Keys) == 0 && !o.Plaintext:
		return o, errors.New("redis: no encryption key: set Options.Keys, or Options.Plaintext to store tokens unencrypted")
	case len(o.Keys) > 0 && o.Plaintext:
		return o, errors.New("redis: Options.Keys and Options.Plaintext are both set")
	case o.OpTimeout < 0:
		return o, errors.New("redis: Options.OpTimeout is negative")
	case o.Cooldown < 0:
		return o, errors.New("redis: Options.Cooldown is negative")
	}
	for i, k := range o.Keys {
		if len(k) != KeySize {
			return o, fmt.Errorf("redis: encryption key %d is %d bytes, want %d", i, len(k), KeySize)
		}
	}
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if o.OpTimeout == 0 {
		o.OpTimeout = defaultOpTimeout
	}
	if o.Cooldown == 0 {
		o.Cooldown = defaultCooldown
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Fallback == nil {
		o.Fallback = cache.NewMemory(0, cache.WithClock(o.Now))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MeterProvider == nil {
		o.MeterProvider = otel.GetMeterProvider()
	}
	return o, nil
}
