package backends

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/internal/tlsconf"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// stage is a configuration built but not yet in service: nothing in it is
// reachable through the registry until commit.
type stage struct {
	defs    map[string]def        // every definition of the new configuration, by name
	sources []*oauthclient.Source // the new token sources, not yet registered
	conns   map[string]*entry     // the added and changed connections
	secrets []string              // the static secrets of every definition
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
	st := &stage{defs: make(map[string]def, len(p.cfg.Security)), conns: map[string]*entry{}}
	cur := r.definitions()
	for _, name := range p.report.Security.Unchanged {
		if d, ok := cur[name]; ok {
			st.defs[name] = d
		}
	}
	for _, sc := range p.cfg.Security {
		st.secrets = append(st.secrets, staticSecrets(sc)...)
	}
	for _, name := range p.report.Security.build() {
		sc := p.cfg.Security[name]
		if p.users.isSMART(name, sc) {
			continue // built by its first connection, see stageSecurity
		}
		d, src, err := r.define(name, sc)
		if err != nil {
			return st, err
		}
		st.defs[name] = d
		if src != nil {
			st.sources = append(st.sources, src)
		}
	}
	for _, name := range p.report.Connections.build() { // sorted: a SMART definition is built by its first connection
		var err error
		if cc, ok := p.cfg.REST[name]; ok {
			err = r.stageConn(st, p, name, kindREST, cc, false)
		} else {
			fc := p.cfg.FHIR[name]
			err = r.stageConn(st, p, name, kindFHIR, fc.ConnConfig, fc.SMART)
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// stageConn builds one connection of the section kind; smart is its FHIR
// smart setting.
func (r *Registry) stageConn(st *stage, p *plan, name, kind string, cc ConnConfig, smart bool) error {
	sec, err := r.stageSecurity(st, p, cc.ConnConfig, smart)
	if err != nil {
		return fmt.Errorf("backends: connection %q: %w", name, err) // err names the definition
	}
	c, err := rest.NewConn(name, cc.ConnConfig, sec, r.opts...)
	if err != nil {
		return err
	}
	e := &entry{kind: kind, security: cc.Security, readiness: readinessOf(cc.Readiness), rest: c}
	st.conns[name] = e
	if kind == kindFHIR {
		if e.fhir, err = fhir.New(name, c.BaseURL(), c); err != nil {
			return err
		}
	}
	return nil
}

// stageSecurity returns the definition the connection cc uses. A SMART
// definition is built by its first connection, whose TLS settings read the
// discovery document; the loader checked that all its connections share
// one base URL.
func (r *Registry) stageSecurity(st *stage, p *plan, cc rest.ConnConfig, smart bool) (rest.Security, error) {
	if cc.Security == "" {
		return rest.None(), nil
	}
	if d, ok := st.defs[cc.Security]; ok {
		return d.sec, nil
	}
	sc, ok := p.cfg.Security[cc.Security]
	if !ok || !smart || !p.users.isSMART(cc.Security, sc) {
		return nil, fmt.Errorf("%w %q", oauthclient.ErrUnknownDefinition, cc.Security)
	}
	cfg, errs := oauthConfig(cc.Security, sc, r.set.Read, r.security)
	if len(errs) > 0 {
		return nil, fmt.Errorf("security definition %q: %s: %s", cc.Security, errs[0].field, errs[0].reason)
	}
	cfg, err := oauthclient.SMARTBackendServices(cc.BaseURL, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.DiscoveryClient, err = r.discoveryClient(cc); err != nil {
		return nil, err
	}
	src, err := oauthclient.NewSource(cfg, r.tokenOpts)
	if err != nil {
		return nil, err
	}
	st.sources = append(st.sources, src)
	d := def{rest.OAuth(src), typeOAuth2}
	st.defs[cc.Security] = d
	return d.sec, nil
}

// discoveryClient reads a SMART discovery document with the TLS settings
// of the connection cc (or through the transport of rest.WithTransport).
func (r *Registry) discoveryClient(cc rest.ConnConfig) (*http.Client, error) {
	if r.set.Transport != nil {
		return &http.Client{Transport: r.set.Transport}, nil
	}
	tc, err := tlsconf.Build(tlsFiles(cc.TLS), r.set.Read)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tc
	t.MaxIdleConnsPerHost = 1
	return &http.Client{Transport: t}, nil
}

func tlsFiles(t rest.TLSConfig) tlsconf.Files {
	return tlsconf.Files{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, MinVersion: t.MinVersion}
}

// discard releases what a stage that will not be committed built.
func (st *stage) discard() {
	for _, s := range st.sources {
		s.Close()
	}
	for _, e := range st.conns {
		e.rest.CloseIdleConnections()
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
	r.defs.Store(&st.defs)
	r.secrets.Store(&st.secrets)
	for name, e := range st.conns {
		r.put(name, e)
	}
	for _, name := range p.report.Connections.Removed {
		r.remove(name)
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

// retireGrace is how long the token source of a definition a reload
// changed stays usable for the calls that were in flight (their retries
// and 401 resends): released at once (no token kept, no timer), closed
// after it — or when the registry closes.
const retireGrace = 2 * time.Minute

// closeLater closes a retired source after retireGrace.
func (r *Registry) closeLater(s *oauthclient.Source) {
	r.retireMu.Lock()
	defer r.retireMu.Unlock()
	if r.retiring == nil {
		r.retiring = map[*oauthclient.Source]*time.Timer{}
	}
	r.retiring[s] = time.AfterFunc(retireGrace, func() {
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
