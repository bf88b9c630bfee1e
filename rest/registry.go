package rest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/internal/registry"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// ErrUnknownConnection is matched (errors.Is) by the error of
// [Registry.Conn] for a name that is not defined.
var ErrUnknownConnection = errors.New("rest: unknown connection")

// ErrClosed matches what a closed [Registry] answers: to lookups, to
// [Registry.Put], and to token requests of its connections. It is
// oauthclient.ErrClosed, the one sentinel for both.
var ErrClosed = oauthclient.ErrClosed

// Registry holds every outgoing connection of a configuration by name —
// REST and FHIR ones alike, since both are HTTP connections with a security
// definition — with the security definitions and the token store they
// share. It is safe for concurrent use: a lookup is one atomic load of an
// immutable map; Put and Remove publish a new map, so calls in flight
// finish on the *Conn they started with while new calls get the new one.
// The connection replaced or removed has its idle keep-alive connections
// closed (see [Conn.CloseIdleConnections]). [Registry.Reload] applies a
// new configuration the same way. Close releases everything.
type Registry struct {
	conns     registry.Map[*Conn]
	security  *oauthclient.Registry               // the OAuth definitions' sources
	secs      atomic.Pointer[map[string]Security] // every definition by name; replaced whole by a reload
	store     io.Closer                           // the store Open opened, if it must be closed
	set       *settings
	opts      []Option            // what Open applied (the loader's, then its own): ReloadFile loads with them
	tokenOpts oauthclient.Options // of every token source
	reloadMu  sync.Mutex          // serialises reloads, and Close with them
	running   *running            // what Open or the last reload applied; guarded by reloadMu
	done      chan struct{}       // closed by Close: watchers end
	closed    atomic.Bool
	once      sync.Once // closes the store once
	closeErr  error
	retireMu  sync.Mutex
	retiring  map[*oauthclient.Source]*time.Timer // sources a reload replaced, in their grace
}

// Conn returns the connection called name. For an unknown name the error
// lists the known ones.
func (r *Registry) Conn(name string) (*Conn, error) {
	if c, ok := r.conns.Get(name); ok {
		return c, nil
	}
	if r.closed.Load() {
		return nil, fmt.Errorf("rest: connection %q: %w", name, ErrClosed)
	}
	known := r.Names()
	if len(known) == 0 {
		return nil, fmt.Errorf("%w %q: no connections are defined", ErrUnknownConnection, name)
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownConnection, name, strings.Join(known, ", "))
}

// Names returns the connection names, sorted.
func (r *Registry) Names() []string { return r.conns.Names() }

// Security returns the security definition called name, as the registry
// built it ("" is [None]), to build a connection that replaces one at run
// time with [NewConn] and [Registry.Put]. Its tokens are shared with the
// connections already using it.
func (r *Registry) Security(name string) (Security, error) {
	if r.closed.Load() {
		return nil, fmt.Errorf("security definition %q: %w", name, ErrClosed)
	}
	if name == "" {
		return None(), nil
	}
	secs := r.definitions()
	if s, ok := secs[name]; ok {
		return s, nil
	}
	known := slices.Sorted(maps.Keys(secs))
	return nil, fmt.Errorf("%w %q (known: %s)", oauthclient.ErrUnknownDefinition, name, listOrNone(known))
}

// NewConn builds the connection name from cfg as [Open] would: with the
// registry's security definition cfg.Security and its options (transport,
// clock, logger, AllowInsecureHTTP…), checked like an entry of the file. Put
// it in place to replace a connection at run time.
func (r *Registry) NewConn(name string, cfg ConnConfig) (*Conn, error) {
	cr := &configReader{set: r.set, broken: map[string]bool{}}
	cr.checkConn(fmt.Sprintf("rest %q", name), cfg, r.securityConfigs())
	if err := cr.err(""); err != nil {
		return nil, err
	}
	sec, err := r.Security(cfg.Security)
	if err != nil {
		return nil, fmt.Errorf("rest: connection %q: security: %w", name, err)
	}
	rt, own, err := baseTransport(cfg, r.set)
	if err != nil {
		return nil, fmt.Errorf("rest: connection %q: %w", name, err)
	}
	return newConn(name, cfg, sec, r.set, rt, own)
}

// definitions returns every security definition by name; the map is not
// modified.
func (r *Registry) definitions() map[string]Security {
	if p := r.secs.Load(); p != nil {
		return *p
	}
	return nil
}

// securityConfigs stands for the definitions by name, for checkConn.
func (r *Registry) securityConfigs() map[string]SecurityConfig {
	secs := r.definitions()
	m := make(map[string]SecurityConfig, len(secs))
	for name := range secs {
		m[name] = SecurityConfig{}
	}
	return m
}

// Put adds c, replacing any connection of the same name. After Close it
// fails with ErrClosed.
func (r *Registry) Put(c *Conn) error {
	old, replaced, closed := r.conns.Put(c.Name(), c)
	if closed {
		return fmt.Errorf("rest: connection %q not added: registry %w", c.Name(), ErrClosed)
	}
	if replaced && old != c {
		old.CloseIdleConnections()
	}
	return nil
}

// Remove deletes the connection called name, if any.
func (r *Registry) Remove(name string) {
	if old, ok := r.conns.Delete(name); ok {
		old.CloseIdleConnections()
	}
}

// Close releases what the registry holds: every token source stops its
// timers and drops its token, idle keep-alive connections are closed, and
// the store Open opened from the store section (Redis) is closed, and
// watchers ([Registry.Watch]) end. Lookups then find nothing; calls
// already running finish, and token requests they still need fail. A
// reload in progress finishes first. Close is idempotent.
func (r *Registry) Close() error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	r.closed.Store(true)
	for _, c := range r.conns.Close() {
		c.CloseIdleConnections()
	}
	r.once.Do(func() {
		if r.done != nil {
			close(r.done)
		}
		if r.security != nil {
			_ = r.security.Close()
		}
		r.closeRetired()
		if r.store != nil {
			r.closeErr = r.store.Close()
		}
	})
	return r.closeErr
}

// String lists the connections; it never shows a secret.
func (r *Registry) String() string {
	var b strings.Builder
	b.WriteString("rest.Registry{")
	for i, name := range r.Names() {
		if i > 0 {
			b.WriteString(" ")
		}
		if c, ok := r.conns.Get(name); ok {
			b.WriteString(c.String())
		}
	}
	b.WriteString("}")
	return b.String()
}

// Format prints [Registry.String] whatever the verb.
func (r *Registry) Format(f fmt.State, _ rune) { redact.Format(f, r.String()) }
