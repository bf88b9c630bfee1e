package backends

import (
	"maps"
	"slices"
)

// running is what Open or the last reload applied, as fingerprints of each
// entry's effective configuration (see printer).
type running struct {
	key   []byte // of the fingerprints: random, per registry
	secs  map[string]fingerprint
	conns map[string]fingerprint
	store fingerprint
}

// plan is a configuration compared with the running one.
type plan struct {
	cfg    *Config
	users  users
	next   *running
	report ReloadReport
}

// plan fingerprints cfg's entries and compares them with from's. A
// connection's fingerprint holds its definition's, so the connections of a
// changed definition are changed too and get rebuilt over its new source.
func (r *Registry) plan(cfg *Config, from *running) *plan {
	fp := printer{key: from.key, read: r.set.Read}
	u := securityUsers(cfg)
	next := &running{key: from.key, secs: map[string]fingerprint{}, conns: map[string]fingerprint{}, store: fp.store(cfg.Store)}
	for name, sc := range cfg.Security {
		next.secs[name] = fp.security(name, sc, cfg, u)
	}
	for name, cc := range cfg.REST {
		next.conns[name] = fp.conn("rest", cc, false, next.secs[cc.Security])
	}
	for name, fc := range cfg.FHIR {
		next.conns[name] = fp.conn("fhir", fc.ConnConfig, fc.SMART, next.secs[fc.Security])
	}
	return &plan{cfg: cfg, users: u, next: next, report: ReloadReport{
		Security:    diff(from.secs, next.secs),
		Connections: diff(from.conns, next.conns),
	}}
}

// diff compares two sets of fingerprints by name.
func diff(from, to map[string]fingerprint) Changes {
	var c Changes
	for _, name := range slices.Sorted(maps.Keys(to)) {
		old, ok := from[name]
		switch {
		case !ok:
			c.Added = append(c.Added, name)
		case old != to[name]:
			c.Changed = append(c.Changed, name)
		default:
			c.Unchanged = append(c.Unchanged, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(from)) {
		if _, ok := to[name]; !ok {
			c.Removed = append(c.Removed, name)
		}
	}
	return c
}

// smartBuilder names the FHIR connection that builds the SMART definition
// called name: the first smart one using it, whose transport reads the
// discovery document.
func smartBuilder(cfg *Config, name string) string {
	for _, n := range slices.Sorted(maps.Keys(cfg.FHIR)) {
		if fc := cfg.FHIR[n]; fc.SMART && fc.Security == name {
			return n
		}
	}
	return ""
}
