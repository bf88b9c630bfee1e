package backends

import (
	"time"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// statusJSON is the JSON view: the registry's [Status], with each
// connection's kind, and the check when one was asked for.
type statusJSON struct {
	At           time.Time        `json:"at"`
	Security     []SecurityStatus `json:"security"`
	Connections  []connStatusJSON `json:"connections"`
	Store        *cache.Status    `json:"store,omitempty"`
	Check        *checkReportJSON `json:"check,omitempty"`
	RenewAllowed bool             `json:"renew_allowed"`
	LastRenewal  *renewNote       `json:"last_renewal,omitempty"`
}

func (h *statusHandler) jsonView(check *CheckReport) statusJSON {
	v := statusView(h.status(), h.kind)
	v.At, v.Check, v.RenewAllowed, v.LastRenewal = h.now(), reportView(check), h.renew, h.last.Load()
	return v
}

// statusView is st as JSON, each connection with its kind.
func statusView(st Status, kind func(name string) string) statusJSON {
	v := statusJSON{Security: st.Security, Connections: []connStatusJSON{}, Store: st.Store}
	for _, cs := range st.Connections {
		v.Connections = append(v.Connections, connView(kind(cs.Name), cs))
	}
	return v
}

// status is the registry's status, its free texts scrubbed once more.
func (h *statusHandler) status() Status {
	st := h.reg.Status()
	for i := range st.Security {
		if t := st.Security[i].Token; t != nil {
			t.LastError = h.reg.scrub(t.LastError)
		}
	}
	for i := range st.Connections {
		st.Connections[i].LastError = h.reg.scrub(st.Connections[i].LastError)
	}
	if st.Store != nil {
		st.Store.LastError = h.reg.scrub(st.Store.LastError)
	}
	return st
}

// kind is the kind of the connection called name.
func (h *statusHandler) kind(name string) string {
	if e, ok := h.reg.conns.Get(name); ok {
		return e.kind
	}
	return kindREST
}

// pageData is what the HTML template shows.
type pageData struct {
	Now         time.Time // of the page, on the registry's clock
	Security    []secRow
	Connections []connRow
	Store       *cache.Status
	Check       *CheckReport
	Renew       bool
	CSRF        string
	Notice      *renewNote
}

type secRow struct {
	SecurityStatus
	Renewable bool
}

type connRow struct {
	rest.ConnStats
	Kind string
}

func (h *statusHandler) page(check *CheckReport, renewed string) pageData {
	st := h.status()
	p := pageData{Now: h.now(), Store: st.Store, Check: check, Renew: h.renew}
	if h.renew {
		p.CSRF = h.csrf
	}
	if n := h.last.Load(); n != nil && renewed != "" && n.Definition == renewed {
		p.Notice = n
	}
	for _, s := range st.Security {
		p.Security = append(p.Security, secRow{SecurityStatus: s, Renewable: h.renew && s.Token != nil && !s.Token.Closed})
	}
	for _, cs := range st.Connections {
		p.Connections = append(p.Connections, connRow{ConnStats: cs, Kind: h.kind(cs.Name)})
	}
	return p
}

// tokenState names a token state for people.
func tokenState(s oauthclient.TokenState) string {
	switch s {
	case oauthclient.TokenBackingOff:
		return "backing off"
	case oauthclient.TokenNone:
		return "no token"
	}
	return string(s)
}
