package rest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// stage is a configuration built but not yet in service: nothing in it is
// reachable through the registry until commit.
type stage struct {
	secs    map[string]Security   // every definition of the new configuration, by name
	sources []*oauthclient.Source // the new token sources, not yet registered
	conns   []*Conn               // the added and changed connections
}

// apply builds what p adds and changes, then puts it in service. When
// building fails nothing has changed.
func (r *Registry) apply(p *plan) error {
	st, err := r.stage(p)
	if err != nil {
		st.discard()
		return err
	}
	r.commit(p, st)
	return nil
}

// stage builds the definitions and connections that p adds or changes,
// keeping the unchanged definitions as they run.
func (r *Registry) stage(p *plan) (*stage, error) {
	st := &stage{secs: map[string]Security{}}
	cur := r.definitions()
	for _, name := range p.report.Security.Unchanged {
		if s, ok := cur[name]; ok {
			st.secs[name] = s
		}
	}
	for _, name := range p.report.Security.build() {
		sc := p.cfg.Security[name]
		if p.users.isSMART(name, sc) {
			continue // built by its first connection, see security
		}
		sec, src, err := r.define(name, sc)
		if err != nil {
			return st, err
		}
		st.secs[name] = sec
		if src != nil {
			st.sources = append(st.sources, src)
		}
	}
	build := p.report.Connections.build()
	for _, name := range slices.Sorted(maps.Keys(p.cfg.REST)) {
		if slices.Contains(build, name) {
			if err := r.stageConn(st, p, name, KindREST, p.cfg.REST[name], false); err != nil {
				return st, err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.cfg.FHIR)) {
		if fc := p.cfg.FHIR[name]; slices.Contains(build, name) {
			if err := r.stageConn(st, p, name, KindFHIR, fc.ConnConfig, fc.SMART); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// stageConn builds one connection of the section kind; smart is its FHIR
// smart setting.
func (r *Registry) stageConn(st *stage, p *plan, name, kind string, cc ConnConfig, smart bool) error {
	rt, own, err := baseTransport(cc, r.set)
	if err != nil {
		return fmt.Errorf("rest: connection %q: %w", name, err)
	}
	sec, err := r.stageSecurity(st, p, cc, smart, rt)
	if err == nil {
		var c *Conn
		if c, err = newConn(name, cc, sec, r.set, rt, own); err == nil {
			c.kind = kind
			st.conns = append(st.conns, c)
			return nil
		}
	} else {
		err = fmt.Errorf("rest: connection %q: security: %w", name, err)
	}
	if own != nil {
		own.CloseIdleConnections()
	}
	return err
}

// stageSecurity returns the definition the connection cc uses. A SMART
// definition is built by its first connection, whose own transport rt
// (without credentials) reads the discovery document; the loader checked
// that all its connections share one base URL.
func (r *Registry) stageSecurity(st *stage, p *plan, cc ConnConfig, smart bool, rt http.RoundTripper) (Security, error) {
	if cc.Security == "" {
		return None(), nil
	}
	if s, ok := st.secs[cc.Security]; ok {
		return s, nil
	}
	sc, ok := p.cfg.Security[cc.Security]
	if !ok || !smart || !p.users.isSMART(cc.Security, sc) {
		return nil, fmt.Errorf("%w %q", oauthclient.ErrUnknownDefinition, cc.Security)
	}
	cfg, errs := oauthConfig(cc.Security, sc, r.set.read)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", errs[0].field, errs[0].reason)
	}
	cfg, err := oauthclient.SMARTBackendServices(cc.BaseURL, cfg)
	if err != nil {
		return nil, err
	}
	cfg.DiscoveryClient = &http.Client{Transport: rt}
	src, err := oauthclient.NewSource(cfg, r.tokenOpts)
	if err != nil {
		return nil, err
	}
	st.sources = append(st.sources, src)
	s := OAuth(src)
	st.secs[cc.Security] = s
	return s, nil
}

// discard releases what a stage that will not be committed built.
func (st *stage) discard() {
	for _, s := range st.sources {
		s.Close()
	}
	for _, c := range st.conns {
		c.CloseIdleConnections()
	}
}

// commit puts st in service. New connections come first, over token
// sources that work before they are registered, so that no lookup finds a
// connection whose source was already retired; then the sources of the
// changed and removed definitions are closed. Calls in flight finish on
// the *Conn they started with.
func (r *Registry) commit(p *plan, st *stage) {
	retired := map[string]*oauthclient.Source{}
	for _, name := range slices.Concat(p.report.Security.Changed, p.report.Security.Removed) {
		if s, err := r.security.Source(name); err == nil {
			retired[name] = s
		}
	}
	r.secs.Store(&st.secs)
	for _, c := range st.conns {
		_ = r.Put(c) // only a closed registry refuses, and Close waits for reloads
	}
	for _, name := range p.report.Connections.Removed {
		r.Remove(name)
	}
	replaced := map[string]bool{}
	for _, s := range st.sources {
		_ = r.security.Add(s) // releases the source it replaces
		replaced[s.Name()] = true
	}
	for name, s := range retired {
		if !replaced[name] {
			r.security.Remove(name) // gone from the file: closed now
			continue
		}
		r.closeLater(s) // released by Add; calls in flight may still retry with it
	}
	r.running = p.next
}

// RetireGrace is how long the token source of a definition a reload
// changed stays usable for the calls that were in flight (their retries
// and 401 resends): released at once (no token kept, no timer), closed
// after it — or when the registry closes.
const RetireGrace = 2 * time.Minute

// closeLater closes a retired source after RetireGrace.
func (r *Registry) closeLater(s *oauthclient.Source) {
	r.retireMu.Lock()
	defer r.retireMu.Unlock()
	if r.retiring == nil {
		r.retiring = map[*oauthclient.Source]*time.Timer{}
	}
	r.retiring[s] = time.AfterFunc(RetireGrace, func() {
		r.retireMu.Lock()
		delete(r.retiring, s)
		r.retireMu.Unlock()
		s.Close()
	})
}

// closeRetired closes the retired sources still in their grace.
func (r *Registry) closeRetired() {
	r.retireMu.Lock()
	defer r.retireMu.Unlock()
	for s, t := range r.retiring {
		t.Stop()
		s.Close()
	}
	r.retiring = nil
}
