package backends

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// A SMART definition is an oauth2 security definition without token_url
// used only by FHIR connections with smart: true, all to one base URL. It
// is completed by oauthclient.SMARTBackendServices: private_key_jwt, the
// token endpoint read from the server's .well-known/smart-configuration
// (through the connection's own TLS settings).

// users lists, by security definition, the connections that use it
// ("rest \"crm\"", "fhir \"ehr\""), and which of them are smart FHIR ones.
type users map[string][]user

type user struct {
	where string
	smart bool
	base  string // base URL of a smart connection
}

func securityUsers(cfg *Config) users {
	u := users{}
	for _, name := range slices.Sorted(maps.Keys(cfg.REST)) {
		if s := cfg.REST[name].Security; s != "" {
			u[s] = append(u[s], user{where: fmt.Sprintf("rest %q", name)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.FHIR)) {
		if fc := cfg.FHIR[name]; fc.Security != "" {
			u[fc.Security] = append(u[fc.Security], user{where: fmt.Sprintf("fhir %q", name), smart: fc.SMART,
				base: strings.TrimSuffix(fc.BaseURL, "/")})
		}
	}
	return u
}

// smartOnly reports whether the definition called name is used, and used
// only, by smart FHIR connections.
func (u users) smartOnly(name string) bool {
	list := u[name]
	return len(list) > 0 && !slices.ContainsFunc(list, func(x user) bool { return !x.smart })
}

// smartConn is the smart connection whose base URL a SMART definition
// discovers its token endpoint at: its first one.
func (u users) smartConn(name string) (user, bool) {
	for _, x := range u[name] {
		if x.smart {
			return x, true
		}
	}
	return user{}, false
}

// smartBase is the base URL whose discovery a SMART definition reads: that
// of its first smart connection.
func (u users) smartBase(name string) string {
	x, _ := u.smartConn(name)
	return x.base
}

// isSMART reports whether sc, called name, is a SMART definition.
func (u users) isSMART(name string, sc SecurityConfig) bool {
	return sc.Type == typeOAuth2 && sc.TokenURL == "" && sc.Issuer == "" && u.smartOnly(name)
}

// missingTokenURL explains why a definition without token_url is
// refused; "" when every connection in the way meant smart: true but wrote
// it under rest or misspelt it: that key, reported where it is written, is
// the one cause.
func (r *configReader) missingTokenURL(u users, name string) string {
	var others []string
	meant := false
	for _, x := range u[name] {
		switch {
		case x.smart:
		case r.misplaced[place{x.where, "smart"}] || r.misspelt(x.where, "smart"):
			meant = true
		default:
			others = append(others, x.where)
		}
	}
	switch {
	case len(others) > 0:
		return fmt.Sprintf("missing, and %s cannot discover it (only smart: true FHIR connections can)", listOrNone(others))
	case meant:
		return ""
	}
	return "missing (give token_url or issuer; only a definition used by smart: true FHIR connections alone may leave both out, to discover it)"
}

// checkSMARTConn checks that a smart FHIR connection has an oauth2
// definition, which, when it discovers its token endpoint, serves no
// server at another base URL.
func (r *configReader) checkSMARTConn(where string, fc FHIRConfig, security map[string]SecurityConfig) {
	sc, ok := security[fc.Security]
	switch {
	case r.broken[fmt.Sprintf("security %q", fc.Security)]: // its own problem is the cause
	case fc.Security == "":
		r.add(where, "security", 0, "missing: smart: true needs an oauth2 security definition")
	case ok && sc.Type != typeOAuth2:
		r.add(where, "security", 0, "smart: true needs an oauth2 security definition (%q is %s)", fc.Security, sc.Type)
	case ok && sc.TokenURL == "" && sc.Issuer == "" && r.users.smartOnly(fc.Security):
		if base := r.users.smartBase(fc.Security); base != strings.TrimSuffix(fc.BaseURL, "/") {
			r.add(where, "security", 0, "%q discovers its token endpoint at %s; a server at another base URL needs its own definition (or a token_url)",
				fc.Security, redact.URLString(base, nil))
		}
	}
}

// checkSMART checks a SMART definition as its first smart connection
// builds it: completed by oauthclient.SMARTBackendServices, its discovery
// URL derived from that connection's base_url. A base_url with a problem
// of its own is the one cause, reported there, and not again here.
func (r *configReader) checkSMART(where, name string, sc SecurityConfig, u users) {
	conn, _ := u.smartConn(name)
	if r.broken[conn.where] || r.hasProblem(conn.where, "base_url") {
		return
	}
	cfg, errs := oauthConfig(name, sc, r.set.Read, nil)
	for _, e := range errs {
		r.add(where, e.field, 0, "%s", e.reason)
	}
	if len(errs) > 0 {
		return
	}
	cfg, err := oauthclient.SMARTBackendServices(conn.base, cfg)
	if err == nil {
		err = cfg.Validate(r.checkOptions())
	}
	var ce *oauthclient.ConfigError
	if errors.As(err, &ce) && ce.Field == "discovery_url" { // not a key of the file: say where it comes from
		r.add(where, "", 0, "the SMART discovery URL derived from the base_url of %s (smart: true): %s", conn.where, ce.Reason)
		return
	}
	r.addOAuthError(where, sc, err)
}
