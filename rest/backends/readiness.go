package backends

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// readiness is how the readiness check counts a connection (the
// connection's readiness key).
type readiness uint8

const (
	readinessRequired  readiness = iota // token and ping must succeed
	readinessOptional                   // checked and reported, never counted
	readinessTokenOnly                  // the token must be obtainable; no ping
)

// The values of the readiness key, as written in the file and in reports.
var readinessNames = [...]string{
	readinessRequired:  "required",
	readinessOptional:  "optional",
	readinessTokenOnly: "token_only",
}

func (m readiness) String() string { return readinessNames[m] }

// readinessOf is the mode named s; the loader refused any other value, so
// an unknown one (a Config built in code and not checked) is required,
// the safe side.
func readinessOf(s string) readiness {
	for m, name := range readinessNames {
		if s == name {
			return readiness(m)
		}
	}
	return readinessRequired
}

// checkReadiness reports a readiness value that is not one of the three,
// and token_only on a connection whose definition has no token to get.
func (r *configReader) checkReadiness(where string, cc ConnConfig, security map[string]SecurityConfig) {
	switch cc.Readiness {
	case "", "required", "optional":
	case "token_only":
		sc, ok := security[cc.Security]
		if ok && sc.Type != typeOAuth2 && sc.Type != typeLogin && !sc.imported() {
			r.add(where, "readiness", 0, "token_only needs a definition that gets tokens (oauth2, login or an imported bearer token); %q is %s", cc.Security, sc.Type)
		} else if cc.Security == "" {
			r.add(where, "readiness", 0, "token_only needs a security definition that gets tokens; this connection has none")
		}
	default:
		r.add(where, "readiness", 0, "%q is not a readiness (want required, optional or token_only)", cc.Readiness)
	}
}

// checkJobs are the jobs of one check: a token fetch per definition with a
// source, a ping (or for token_only a token fetch) per connection.
type checkJobs struct {
	jobs    []func(context.Context) CheckResult
	nTokens int
}

// collectJobs lists the checks of the registry. A definition's token
// counts for readiness unless every connection that uses it is optional
// (a definition that no connection uses, for calls made in code, counts).
func (r *Registry) collectJobs() checkJobs {
	used, counted := map[string]bool{}, map[string]bool{}
	var conns []func(context.Context) CheckResult
	for _, name := range r.Names() {
		e, ok := r.conns.Get(name)
		if !ok {
			continue
		}
		if e.security != "" {
			used[e.security] = true
			counted[e.security] = counted[e.security] || e.readiness != readinessOptional
		}
		if e.readiness == readinessTokenOnly {
			if src, err := r.security.Source(e.security); err == nil {
				conns = append(conns, r.tokenOnlyCheck(name, e, src))
				continue
			}
		}
		conns = append(conns, r.pingCheck(name, e))
	}
	var cj checkJobs
	for _, name := range r.security.Names() {
		if src, err := r.security.Source(name); err == nil {
			optional := used[name] && !counted[name]
			cj.jobs = append(cj.jobs, r.tokenCheck(name, src, optional))
		}
	}
	cj.nTokens = len(cj.jobs)
	cj.jobs = append(cj.jobs, conns...)
	return cj
}

// tokenOnlyCheck checks a token_only connection: its definition's token
// is obtainable (a token held and valid counts without a request).
func (r *Registry) tokenOnlyCheck(name string, e *entry, src *oauthclient.Source) func(context.Context) CheckResult {
	return func(ctx context.Context) CheckResult {
		res := CheckResult{Name: name, Kind: e.kind, Security: e.security, Readiness: readinessTokenOnly.String()}
		_, err := src.TokenContext(ctx)
		if named := fmt.Sprintf("security definition %q", e.security); err != nil && !strings.HasPrefix(err.Error(), named) {
			err = fmt.Errorf("%s: %w", named, err) // oauthclient's errors name it already
		}
		res.OK, res.Error = err == nil, r.errText(err)
		return res
	}
}

// counts reports whether a failed result makes the service unready.
func (res CheckResult) counts() bool { return res.Readiness != readinessOptional.String() }
