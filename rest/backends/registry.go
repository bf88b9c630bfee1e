package backends

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/internal/registry"
	"github.com/tokenwire/tokenwire/internal/settings"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// ErrUnknownConnection is matched (errors.Is) by the error of
// [Registry.REST] and [Registry.FHIR] for a name that is not defined.
var ErrUnknownConnection = errors.New("backends: unknown connection")

// ErrClosed matches what a closed [Registry] answers: to lookups, and to
// token requests of its connections. It is oauthclient.ErrClosed, the one
// sentinel for both.
var ErrClosed = oauthclient.ErrClosed

// The kinds of connection, as a [CheckResult] names them: the section of
// the configuration file a connection comes from.
const (
	kindREST = "rest"
	kindFHIR = "fhir"
)

// Registry holds every outgoing connection of a configuration by name —
// REST and FHIR ones alike, since both are HTTP connections with a security
// definition — with the security definitions and the token store they
// share. It is safe for concurrent use: a lookup is one atomic load of an
// immutable map, and hands out the same *rest.Conn and *fhir.Conn for a
// name every time (so a FHIR connection reads its server's capabilities
// once) until a reload changes that connection. [Registry.Reload] publishes
// a new map: calls in flight finish on the connection they started with
// while new calls get the new one; the connection replaced or removed has
// its idle keep-alive connections closed. Close releases everything.
type Registry struct {
	conns     registry.Map[*entry]
	security  *oauthclient.Registry          // the OAuth definitions' sources
	defs      atomic.Pointer[map[string]def] // every definition by name; replaced whole by a reload
	secrets   atomic.Pointer[[]string]       // the static secrets of every definition, for scrub
	store     io.Closer                      // the store Open opened, if it must be closed
	set       *settings.Settings
	opts      []rest.Option       // what Open applied (the loader's, then its own): ReloadFile loads with them
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

// entry is one connection: its HTTP connection, and the FHIR connection
// over it for one of the fhir section.
type entry struct {
	kind      string    // kindREST or kindFHIR
	security  string    // the definition's name; "" for none
	readiness readiness // how the readiness check counts it
	rest      *rest.Conn
	fhir      *fhir.Conn
}

// def is one security definition as built.
type def struct {
	sec  rest.Security
	kind string // oauth2 (any definition with a token source), basic, bearer, apikey or none
}

// REST returns the HTTP connection called name: one of the rest section,
// or the connection under one of the fhir section (for plain HTTP calls to
// that server). For an unknown name the error lists the known ones.
func (r *Registry) REST(name string) (*rest.Conn, error) {
	e, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	return e.rest, nil
}

// FHIR returns the FHIR connection called name, one of the fhir section:
// the same *fhir.Conn every time, so that its server's capabilities are
// read once. Its requests go through the connection's TLS, pool, timeout,
// retries, default headers and tokens (cached, renewed, 401 → renew →
// resend once), SMART Backend Services included. It is built with fhir's
// defaults; a connection with options of its own (fhir.WithMaxBody…) is
// fhir.New(name, c.BaseURL(), c, opts...) over c from [Registry.REST],
// kept by the caller.
func (r *Registry) FHIR(name string) (*fhir.Conn, error) {
	e, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	if e.fhir == nil {
		return nil, fmt.Errorf("backends: connection %q is a REST connection, not a FHIR one", name)
	}
	return e.fhir, nil
}

func (r *Registry) lookup(name string) (*entry, error) {
	if e, ok := r.conns.Get(name); ok {
		return e, nil
	}
	if r.closed.Load() {
		return nil, fmt.Errorf("backends: connection %q: %w", name, ErrClosed)
	}
	known := r.Names()
	if len(known) == 0 {
		return nil, fmt.Errorf("%w %q: no connections are defined", ErrUnknownConnection, name)
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownConnection, name, strings.Join(known, ", "))
}

// Names returns the connection names, sorted.
func (r *Registry) Names() []string { return r.conns.Names() }

// definitions returns every security definition by name; the map is not
// modified.
func (r *Registry) definitions() map[string]def {
	if p := r.defs.Load(); p != nil {
		return *p
	}
	return nil
}

// put adds e under name, replacing any connection of the same name.
func (r *Registry) put(name string, e *entry) {
	old, replaced, _ := r.conns.Put(name, e)
	if replaced && old != e {
		old.rest.CloseIdleConnections()
	}
}

// remove deletes the connection called name, if any.
func (r *Registry) remove(name string) {
	if old, ok := r.conns.Delete(name); ok {
		old.rest.CloseIdleConnections()
	}
}

// Close releases what the registry holds: every token source stops its
// timers and drops its token, idle keep-alive connections are closed, the
// store Open opened from the store section (Redis) is closed, and watchers
// ([Registry.Watch]) end. Lookups then find nothing; calls
// already running finish, and token requests they still need fail. A
// reload in progress finishes first. Close is idempotent.
func (r *Registry) Close() error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	r.closed.Store(true)
	for _, e := range r.conns.Close() {
		e.rest.CloseIdleConnections()
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
	b.WriteString("backends.Registry{")
	for i, name := range r.Names() {
		if i > 0 {
			b.WriteString(" ")
		}
		if e, ok := r.conns.Get(name); ok {
			b.WriteString(e.rest.String())
		}
	}
	b.WriteString("}")
	return b.String()
}

// Format prints [Registry.String] whatever the verb: the registry holds
// the secrets of its definitions.
func (r *Registry) Format(f fmt.State, _ rune) { redact.Format(f, r.String()) }
