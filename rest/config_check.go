package rest

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// typeFields lists the yaml keys each security type accepts besides "type".
var typeFields = map[string][]string{
	TypeOAuth2: {"token_url", "client_id", "client_secret", "scopes", "audience", "resources", "params", "auth_method",
		"private_key", "key_id", "signing_alg", "assertion_audience", "assertion_lifetime", "cert_file", "key_file",
		"ca_file", "timeout", "default_lifetime"},
	TypeBasic:  {"username", "password"},
	TypeAPIKey: {"in", "name", "value"},
	TypeBearer: {"token"},
	TypeNone:   {},
}

// check resolves references and validates everything decoded.
func (r *configReader) check(cfg *Config) {
	// Connections first: whether an oauth2 definition may leave token_url
	// out depends on who uses it.
	for _, name := range slices.Sorted(maps.Keys(cfg.REST)) {
		cc := cfg.REST[name]
		if where := fmt.Sprintf("rest %q", name); !r.broken[where] {
			r.checkConn(where, &cc, cfg.Security)
		}
		cfg.REST[name] = cc
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.FHIR)) {
		fc := cfg.FHIR[name]
		if where := fmt.Sprintf("fhir %q", name); !r.broken[where] {
			r.checkConn(where, &fc.ConnConfig, cfg.Security)
			if fc.SMART {
				r.checkSMARTConn(where, fc, cfg.Security)
			}
		}
		cfg.FHIR[name] = fc
	}
	users := securityUsers(cfg)
	for _, name := range slices.Sorted(maps.Keys(cfg.Security)) {
		sc := cfg.Security[name]
		where := fmt.Sprintf("security %q", name)
		if r.broken[where] {
			continue
		}
		r.resolve(where, &sc)
		cfg.Security[name] = sc
		r.checkSecurity(where, name, sc, users)
	}
	if !r.broken["store"] {
		r.resolve("store", &cfg.Store)
		r.checkStore(cfg.Store)
	}
}

func (r *configReader) checkSecurity(where, name string, sc SecurityConfig, users users) {
	allowed, ok := typeFields[sc.Type]
	if !ok {
		r.add(where, "type", 0, "%s (want oauth2, basic, apikey, bearer or none)", quoteOrMissing(sc.Type))
		return
	}
	for _, f := range setFields(sc) {
		if f != "type" && !slices.Contains(allowed, f) {
			r.add(where, f, 0, "does not apply to type %s", sc.Type)
		}
	}
	switch sc.Type {
	case TypeOAuth2:
		if sc.TokenURL == "" {
			if users.smartOnly(name) {
				r.checkSMART(where, name, sc)
			} else {
				r.add(where, "token_url", 0, "%s", users.missingTokenURL(name))
			}
			return
		}
		cfg, errs := oauthConfig(name, sc, r.readFile, r.allowHTTP)
		for _, e := range errs {
			r.add(where, e.field, 0, "%s", e.reason)
		}
		if len(errs) == 0 {
			if _, err := oauthclient.NewSource(cfg, oauthclient.Options{}); err != nil {
				r.addOAuthError(where, err)
			}
		}
	case TypeBasic:
		r.require(where, "username", sc.Username)
	case TypeAPIKey:
		r.require(where, "name", sc.Name)
		r.require(where, "value", string(sc.Value))
		switch sc.In {
		case "", "header":
			if sc.Name != "" && !validHeaderName(sc.Name) {
				r.add(where, "name", 0, "%q is not a valid header name", sc.Name)
			}
		case "query":
		default:
			r.add(where, "in", 0, "%q is not header or query", sc.In)
		}
	case TypeBearer:
		r.require(where, "token", string(sc.Token))
	}
}

func (r *configReader) addOAuthError(where string, err error) {
	var ce *oauthclient.ConfigError
	if errors.As(err, &ce) {
		r.add(where, ce.Field, 0, "%s", ce.Reason)
		return
	}
	r.add(where, "", 0, "%v", err)
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

// setFields returns the yaml keys of sc's non-zero fields.
func setFields(sc SecurityConfig) []string {
	var out []string
	v, t := reflect.ValueOf(sc), reflect.TypeOf(sc)
	for i := range t.NumField() {
		if !v.Field(i).IsZero() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			out = append(out, name)
		}
	}
	return out
}

func (r *configReader) checkConn(where string, cc *ConnConfig, security map[string]SecurityConfig) {
	r.resolve(where, cc)
	if _, err := parseBaseURL(cc.BaseURL, r.allowHTTP); err != nil {
		r.add(where, "base_url", 0, "%v", err)
	}
	if _, ok := security[cc.Security]; cc.Security != "" && !ok {
		known := slices.Sorted(maps.Keys(security))
		r.add(where, "security", 0, "unknown security definition %q (known: %s)", cc.Security, listOrNone(known))
	}
	for k := range cc.Headers {
		if !validHeaderName(k) {
			r.add(where, "headers", 0, "%q is not a valid header name", k)
		}
	}
	if _, err := cc.TLS.build(r.readFile); err != nil {
		r.add(where, "", 0, "%v", err)
	}
	for field, d := range map[string]int64{"timeout": int64(cc.Timeout), "pool.max_idle_conns_per_host": int64(cc.Pool.MaxIdleConnsPerHost),
		"pool.max_conns_per_host": int64(cc.Pool.MaxConnsPerHost), "pool.idle_conn_timeout": int64(cc.Pool.IdleConnTimeout),
		"retry.max_attempts": int64(cc.Retry.MaxAttempts), "retry.max_elapsed": int64(cc.Retry.MaxElapsed),
		"retry.min_wait": int64(cc.Retry.MinWait), "retry.max_wait": int64(cc.Retry.MaxWait)} {
		if d < 0 {
			r.add(where, field, 0, "must not be negative")
		}
	}
	r.checkWaits(where, cc.Retry)
}

// checkWaits reports a backoff cap below the first backoff (which would
// otherwise be raised to it silently).
func (r *configReader) checkWaits(where string, p RetryPolicy) {
	if p.MaxWait <= 0 || p.MinWait < 0 {
		return
	}
	minWait, dflt := p.MinWait, ""
	if minWait == 0 {
		minWait, dflt = DefaultMinWait, " (the default)"
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
	if sc.Memory != nil && sc.Redis != nil {
		r.add("store", "", 0, "set memory or redis, not both")
	}
	if sc.Memory != nil && sc.Memory.Size < 0 {
		r.add("store", "memory.size", 0, "must not be negative")
	}
	if sc.Redis != nil {
		if _, err := sc.Redis.Options(); err != nil {
			r.add("store", "redis", 0, "%s", strings.TrimPrefix(err.Error(), "redis: "))
		}
	}
}

// unwrapPathError drops the path that *fs.PathError repeats.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
