package backends

import (
	"context"
	"errors"
	"strings"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// tokenCheck gets the token of the definition name from src; optional
// when only optional connections use it.
func (r *Registry) tokenCheck(name string, src *oauthclient.Source, optional bool) func(context.Context) CheckResult {
	mode := readinessRequired
	if optional {
		mode = readinessOptional
	}
	return func(ctx context.Context) CheckResult {
		res := CheckResult{Name: name, Kind: typeOAuth2, Readiness: mode.String()}
		_, err := src.TokenContext(ctx) // the token itself is never looked at
		res.OK, res.Error = err == nil, r.errText(err)
		return res
	}
}

// pingCheck pings the connection e called name: a REST one with its ping
// setting, a FHIR one with GET [base]/metadata.
func (r *Registry) pingCheck(name string, e *entry) func(context.Context) CheckResult {
	return func(ctx context.Context) CheckResult {
		res := CheckResult{Name: name, Kind: e.kind, Security: e.security, Readiness: e.readiness.String()}
		var err error
		if e.fhir != nil {
			err = e.fhir.Ping(ctx)
		} else {
			err = e.rest.Ping(ctx)
		}
		res.OK, res.Error = err == nil, r.errText(err)
		return res
	}
}

// errText is err's text for a report: "" for none, else scrubbed, and
// with every query value of the connection's URL masked (a base URL's
// query may hold a tenant or a key: the stats mask it too).
func (r *Registry) errText(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	var re *rest.Error
	if errors.As(err, &re) && re.URL != "" {
		text = strings.ReplaceAll(text, re.URL, redact.URLString(re.URL, nil))
	}
	return r.scrub(text)
}

// scrub removes from s every secret the registry's connections know (API
// keys, passwords, fixed tokens): the errors of this library hold none,
// and this is the second line of defence for what a report or a page
// shows. OAuth secrets never reach an error (oauthclient builds its errors
// without them and scrubs what it keeps).
func (r *Registry) scrub(s string) string {
	if p := r.secrets.Load(); s != "" && p != nil {
		s = redact.Values(s, *p...)
	}
	return s
}
