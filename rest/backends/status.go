package backends

import (
	"maps"
	"slices"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// Status is a snapshot of everything a [Registry] holds, for a status page
// or a health check: every security definition, every connection and the
// token store, each sorted by name. It never holds a secret, a token or a
// query value, and encodes as JSON with the names shown.
type Status struct {
	Security    []SecurityStatus `json:"security"`
	Connections []rest.ConnStats `json:"connections"`
	Store       *cache.Status    `json:"store,omitempty"` // nil without a store
}

// SecurityStatus is one security definition: its kind, and for an OAuth
// definition the state of its token source.
type SecurityStatus struct {
	Name  string                    `json:"name"`
	Kind  string                    `json:"kind"`            // oauth2, basic, bearer, apikey, none, or custom
	Token *oauthclient.SourceStatus `json:"token,omitempty"` // OAuth definitions only
}

// Status returns a snapshot of the registry. It is cheap (atomic loads and
// short locks, no I/O: the store's health is what its last operation
// said) and safe to call while calls, renewals and reloads go on.
func (r *Registry) Status() Status {
	st := Status{Security: []SecurityStatus{}, Connections: []rest.ConnStats{}}
	tokens := map[string]*oauthclient.SourceStatus{}
	if r.security != nil {
		rs := r.security.Status()
		for i := range rs.Sources {
			tokens[rs.Sources[i].Definition] = &rs.Sources[i]
		}
		st.Store = rs.Store
	}
	defs := r.definitions()
	names := slices.Sorted(maps.Keys(defs))
	for name := range tokens {
		if _, ok := defs[name]; !ok { // a source the registry holds outside the definitions
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		ss := SecurityStatus{Name: name, Kind: typeOAuth2, Token: tokens[name]}
		if d, ok := defs[name]; ok {
			ss.Kind = d.kind
		}
		st.Security = append(st.Security, ss)
	}
	for _, name := range r.Names() {
		if e, ok := r.conns.Get(name); ok {
			st.Connections = append(st.Connections, e.rest.Stats())
		}
	}
	return st
}
