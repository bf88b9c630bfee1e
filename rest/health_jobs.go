package rest

import (
	"context"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// tokenCheck gets the token of the definition name from src.
func (r *Registry) tokenCheck(name string, src *oauthclient.Source) func(context.Context) CheckResult {
	return func(ctx context.Context) CheckResult {
		res := CheckResult{Name: name, Kind: TypeOAuth2}
		_, err := src.TokenContext(ctx) // the token itself is never looked at
		res.OK, res.Error = err == nil, r.errText(err)
		return res
	}
}

// pingCheck pings c.
func (r *Registry) pingCheck(c *Conn) func(context.Context) CheckResult {
	return func(ctx context.Context) CheckResult {
		res := CheckResult{Name: c.name, Kind: c.Kind(), Security: c.secName}
		err := c.Ping(ctx)
		res.OK, res.Error = err == nil, r.errText(err)
		return res
	}
}

// errText is err's text for a report: "" for none, else scrubbed.
func (r *Registry) errText(err error) string {
	if err == nil {
		return ""
	}
	return r.scrub(err.Error())
}

// scrub removes from s every secret the registry's connections know (API
// keys, passwords, fixed tokens): the errors of this library hold none,
// and this is the second line of defence for what a report or a page
// shows. OAuth secrets never reach an error (oauthclient builds its errors
// without them and scrubs what it keeps).
func (r *Registry) scrub(s string) string {
	if s == "" {
		return s
	}
	for _, name := range r.Names() {
		if c, ok := r.conns.Get(name); ok {
			s = c.red.text(s)
		}
	}
	return s
}
