package backends

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/internal/tlsconf"
	"github.com/tokenwire/tokenwire/internal/urlpath"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// reservedParams are the token request's form fields that params may not
// set: tokenwire sends them itself.
var reservedParams = map[string]bool{"grant_type": true, "client_id": true, "client_secret": true, "client_assertion": true,
	"client_assertion_type": true, "scope": true, "audience": true, "resource": true}

// check validates everything decoded and resolved.
func (r *configReader) check(cfg *Config) {
	// Connections first: whether an oauth2 definition may leave token_url
	// out depends on who uses it.
	for _, name := range slices.Sorted(maps.Keys(cfg.REST)) {
		if where := fmt.Sprintf("rest %q", name); !r.broken[where] {
			r.checkConn(where, cfg.REST[name], cfg.Security)
		}
	}
	r.users = securityUsers(cfg)
	for _, name := range slices.Sorted(maps.Keys(cfg.FHIR)) {
		fc := cfg.FHIR[name]
		if where := fmt.Sprintf("fhir %q", name); !r.broken[where] {
			if _, dup := cfg.REST[name]; dup {
				r.add(where, "", 0, "a rest connection has the same name (REST and FHIR connections share one name space)")
			}
			r.checkConn(where, fc.ConnConfig, cfg.Security)
			if u, err := url.Parse(fc.BaseURL); err == nil && (u.RawQuery != "" || u.ForceQuery) {
				r.add(where, "base_url", 0, "a FHIR base URL has no query")
			}
			if fc.SMART {
				r.checkSMARTConn(where, fc, cfg.Security)
			}
			r.checkFHIRPing(where, fc.Ping)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Security)) {
		if where := fmt.Sprintf("security %q", name); !r.broken[where] {
			r.checkSecurity(where, name, cfg.Security[name], r.users)
		}
	}
	r.checkReferences(cfg.Security)
	r.checkStateFiles(cfg.Security)
	if !r.broken["store"] {
		r.checkStore(cfg.Store)
	}
}

func (r *configReader) checkSecurity(where, name string, sc SecurityConfig, users users) {
	if !knownType(sc.Type) { // a Config built in code (a file's entry was assembled)
		r.add(where, "type", 0, "%s (want %s)", quoteOrMissing(sc.Type), securityTypes)
		return
	}
	for _, f := range nonZeroFields(reflect.ValueOf(sc)) { // again, for a Config built in code
		if f != "type" && f != "grant" && !slices.Contains(securityKeys()[f].types, sc.Type) {
			r.add(where, f, 0, "does not apply to type %s", sc.Type)
		}
	}
	switch sc.Type {
	case typeLogin:
		r.checkDurations(where, map[string]time.Duration{"timeout": sc.Timeout, "default_lifetime": sc.DefaultLifetime})
		r.checkTokenSource(where, name, sc)
	case typeOAuth2:
		for k := range sc.Params {
			if reservedParams[k] {
				r.add(where, "params."+k, 0, "is set by tokenwire (use the field of its own, if any)")
			}
		}
		r.checkDurations(where, map[string]time.Duration{"timeout": sc.Timeout,
			"default_lifetime": sc.DefaultLifetime, "assertion_lifetime": sc.AssertionLifetime})
		if !r.checkSMARTGrant(where, name, sc) {
			return
		}
		if sc.TokenURL == "" && sc.Issuer == "" && !users.smartOnly(name) {
			if why := r.missingTokenURL(users, name); why != "" {
				r.add(where, "token_url", 0, "%s", why)
			}
			return
		}
		if sc.TokenURL == "" && sc.Issuer == "" {
			r.checkSMART(where, name, sc, users)
			return
		}
		r.checkTokenSource(where, name, sc)
	case typeBasic:
		r.require(where, "username", sc.Username)
	case typeAPIKey:
		r.require(where, "name", sc.Name)
		r.require(where, "value", sc.Value.Reveal())
		switch sc.In {
		case "", "header":
			if sc.Name != "" && !validHeaderName(sc.Name) {
				r.add(where, "name", 0, "%q is not a valid header name", sc.Name)
			}
		case "query":
		default:
			r.add(where, "in", 0, "%q is not header or query", sc.In)
		}
	case typeBearer:
		if sc.imported() {
			r.checkTokenSource(where, name, sc)
			return
		}
		r.require(where, "token", sc.Token.Reveal())
	}
}

// checkTokenSource validates an oauth2, login or imported bearer
// definition as Open will build it (oauthclient.Config.Validate: nothing
// is built that runs), reporting what oauthclient finds wrong by key.
func (r *configReader) checkTokenSource(where, name string, sc SecurityConfig) {
	cfg, errs := oauthConfig(name, sc, r.set.Read, nil)
	for _, e := range errs {
		r.add(where, e.field, 0, "%s", e.reason)
	}
	if len(errs) == 0 {
		r.addOAuthError(where, sc, cfg.Validate(r.checkOptions()))
	}
}

// checkOptions are the options definitions are validated with.
func (r *configReader) checkOptions() oauthclient.Options {
	return oauthclient.Options{AllowInsecureHTTP: r.set.Insecure}
}

// checkDurations reports negative durations by field.
func (r *configReader) checkDurations(where string, ds map[string]time.Duration) {
	for field, d := range ds {
		if d < 0 {
			r.add(where, field, 0, "must not be negative")
		}
	}
}

// fileKeys are the keys of the file that oauthclient's fields are
// known by, where the names differ.
var fileKeys = map[string]string{"certificate": "cert_file"}

// addOAuthError reports err, oauthclient's, by the key of the file it is
// about.
func (r *configReader) addOAuthError(where string, sc SecurityConfig, err error) {
	var ce *oauthclient.ConfigError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		field := cmp.Or(fileKeys[ce.Field], ce.Field)
		if sc.imported() && field == "token" {
			field = "token_from"
		}
		r.add(where, field, 0, "%s", ce.Reason)
	default:
		r.add(where, "", 0, "%v", err)
	}
}

func (r *configReader) require(where, field, v string) {
	if v == "" {
		r.add(where, field, 0, "missing")
	}
}

func quoteOrMissing(s string) string {
	if s == "" {
		return "missing"
	}
	return fmt.Sprintf("%q is unknown", s)
}

// nonZeroFields returns the yaml keys of struct v's non-zero fields,
// through inline ones.
func nonZeroFields(v reflect.Value) []string {
	var out []string
	for _, f := range yamlStruct(v.Type()) {
		switch {
		case f.inline:
			out = append(out, nonZeroFields(v.Field(f.index))...)
		case !v.Field(f.index).IsZero():
			out = append(out, f.name)
		}
	}
	return out
}

func (r *configReader) checkConn(where string, cc ConnConfig, security map[string]SecurityConfig) {
	if _, err := urlpath.ParseBase(cc.BaseURL, r.set.Insecure); err != nil {
		r.add(where, "base_url", 0, "%v", err)
	}
	if _, ok := security[cc.Security]; cc.Security != "" && !ok && !r.broken["security"] {
		known := slices.Sorted(maps.Keys(security))
		r.add(where, "security", 0, "unknown security definition %q (known: %s)", cc.Security, listOrNone(known))
	}
	for k := range cc.Headers {
		if !validHeaderName(k) {
			r.add(where, "headers", 0, "%q is not a valid header name", k)
		}
	}
	if _, err := tlsconf.Build(tlsFiles(cc.TLS), r.set.Read); err != nil {
		field, reason, _ := strings.Cut(err.Error(), ": ") // "tls.ca_file: …"
		r.add(where, field, 0, "%s", reason)
	}
	r.checkDurations(where, map[string]time.Duration{"timeout": cc.Timeout, "pool.max_idle_conns_per_host": time.Duration(cc.Pool.MaxIdleConnsPerHost),
		"pool.max_conns_per_host": time.Duration(cc.Pool.MaxConnsPerHost), "pool.idle_conn_timeout": cc.Pool.IdleConnTimeout,
		"retry.max_attempts": time.Duration(cc.Retry.MaxAttempts), "retry.max_elapsed": cc.Retry.MaxElapsed,
		"retry.min_wait": cc.Retry.MinWait, "retry.max_wait": cc.Retry.MaxWait})
	r.checkWaits(where, cc.Retry)
	r.checkPing(where, cc.Ping)
	r.checkReadiness(where, cc, security)
}

// checkWaits reports a backoff cap below the first backoff (which would
// otherwise be raised to it silently).
func (r *configReader) checkWaits(where string, p rest.RetryPolicy) {
	if p.MaxWait <= 0 || p.MinWait < 0 {
		return
	}
	minWait, dflt := p.MinWait, ""
	if minWait == 0 {
		minWait, dflt = 100*time.Millisecond, " (the default)" // rest.RetryPolicy's
	}
	if p.MaxWait < minWait {
		r.add(where, "retry.max_wait", 0, "%s is less than retry.min_wait %s%s", p.MaxWait, minWait, dflt)
	}
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none defined"
	}
	return strings.Join(names, ", ")
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return http.CanonicalHeaderKey(k) != ""
}

func (r *configReader) checkStore(sc StoreConfig) {
	if sc.Memory != nil && sc.Shared != nil {
		r.add("store", "", 0, "set memory or %s, not both", sc.SharedName)
	}
	if sc.Memory != nil && sc.Memory.Size < 0 {
		r.add("store", "memory.size", 0, "must not be negative")
	}
	if s, ok := sc.section(); ok {
		if err := s.Check(r.set.StoreEnv()); err != nil {
			r.add("store", sc.SharedName, 0, "%s", strings.TrimPrefix(err.Error(), sc.SharedName+": "))
		}
	} else if sc.Shared != nil {
		r.add("store", sc.SharedName, 0, "%T is not a store section (see WithStoreSection)", sc.Shared)
	}
}
