package backends

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// typeLogin is a vendor login endpoint that is not OAuth (oauthclient.Login).
const typeLogin = "login"

// The grants of an oauth2 definition (its grant field).
const (
	grantClientCredentials = "client_credentials" // the default
	grantJWTBearer         = "jwt_bearer"         // RFC 7523 §2.1
	grantTokenExchange     = "token_exchange"     // RFC 8693
	grantRefreshToken      = "refresh_token"      // RFC 6749 §6, with rotation
)

// GrantConfig holds the fields of the grants beyond client credentials
// (oauth2 with grant: jwt_bearer, token_exchange or refresh_token), of
// login definitions and of imported bearer tokens. It is part of
// [SecurityConfig]: its keys are written beside the others.
type GrantConfig struct {
	// Grant is the oauth2 grant: client_credentials (default),
	// jwt_bearer, token_exchange or refresh_token.
	Grant string `yaml:"grant" json:"grant,omitempty" use:"oauth2"`

	// jwt_bearer: a supplied assertion, or one tokenwire signs with
	// private_key (key_id, signing_alg, assertion_audience,
	// assertion_lifetime) for assertion_subject.
	Assertion        *SupplierConfig   `yaml:"assertion" json:"assertion,omitempty" use:"oauth2" grant:"jwt_bearer"`
	AssertionIssuer  string            `yaml:"assertion_issuer" json:"assertion_issuer,omitempty" use:"oauth2" grant:"jwt_bearer"` // default client_id
	AssertionSubject string            `yaml:"assertion_subject" json:"assertion_subject,omitempty" use:"oauth2" grant:"jwt_bearer"`
	AssertionClaims  map[string]string `yaml:"assertion_claims" json:"assertion_claims,omitempty" use:"oauth2" grant:"jwt_bearer"`

	// token_exchange: audience, resources and scopes are the exchange's.
	SubjectToken       *SupplierConfig `yaml:"subject_token" json:"subject_token,omitempty" use:"oauth2" grant:"token_exchange"`
	SubjectTokenType   string          `yaml:"subject_token_type" json:"subject_token_type,omitempty" use:"oauth2" grant:"token_exchange"` // default access_token's URN
	ActorToken         *SupplierConfig `yaml:"actor_token" json:"actor_token,omitempty" use:"oauth2" grant:"token_exchange"`
	ActorTokenType     string          `yaml:"actor_token_type" json:"actor_token_type,omitempty" use:"oauth2" grant:"token_exchange"`
	RequestedTokenType string          `yaml:"requested_token_type" json:"requested_token_type,omitempty" use:"oauth2" grant:"token_exchange"`

	// refresh_token: the token an administrator obtained once
	// (examples/authorize writes it to a file).
	RefreshToken    *SupplierConfig `yaml:"refresh_token" json:"refresh_token,omitempty" use:"oauth2" grant:"refresh_token"`
	RefreshLifetime time.Duration   `yaml:"refresh_lifetime" json:"refresh_lifetime,omitempty" use:"oauth2" grant:"refresh_token"`
	// refresh_token: where rotations are kept across restarts (see the
	// oauthclient package doc, "Refresh tokens"); oauthclient.RefreshToken.StateFile.
	RefreshStateFile string `yaml:"refresh_state_file" json:"refresh_state_file,omitempty" use:"oauth2" grant:"refresh_token"`

	// login: see oauthclient.Login.
	Method            string                        `yaml:"method" json:"method,omitempty" use:"login"` // POST (default), PUT, GET
	Body              string                        `yaml:"body" json:"body,omitempty" use:"login"`     // json (default) or form
	ClientIDField     string                        `yaml:"client_id_field" json:"client_id_field,omitempty" use:"login"`
	ClientSecretField string                        `yaml:"client_secret_field" json:"client_secret_field,omitempty" use:"login"`
	Fields            map[string]oauthclient.Secret `yaml:"fields" json:"fields,omitempty" use:"login"`   // further body fields; may be file: or ${VAR}
	Headers           map[string]oauthclient.Secret `yaml:"headers" json:"headers,omitempty" use:"login"` // of the login request
	TokenPath         string                        `yaml:"token_path" json:"token_path,omitempty" use:"login"`
	ExpiresInPath     string                        `yaml:"expires_in_path" json:"expires_in_path,omitempty" use:"login"`
	ExpiresAtPath     string                        `yaml:"expires_at_path" json:"expires_at_path,omitempty" use:"login"`
	Scheme            string                        `yaml:"scheme" json:"scheme,omitempty" use:"login bearer"` // login and bearer: Authorization scheme; default Bearer

	// bearer, imported: where the token is read again when it is due,
	// and when it expires (RFC 3339) if it is no JWT with exp.
	TokenFrom *SupplierConfig `yaml:"token_from" json:"token_from,omitempty" use:"bearer"`
	ExpiresAt string          `yaml:"expires_at" json:"expires_at,omitempty" use:"bearer"`
}

// SupplierConfig is where a credential issued elsewhere is read for each
// token request (oauthclient.Supplier): exactly one of a file, a command,
// a value, or (for subject_token and actor_token) another definition's
// access token. Printed or marshalled, it shows no value and no argument
// (they are oauthclient.Secret).
type SupplierConfig struct {
	File       string               `yaml:"file" json:"file,omitempty"`             // read anew each time (a projected service-account token)
	Command    []oauthclient.Secret `yaml:"command" json:"command,omitempty"`       // run each time; its standard output (the arguments never print)
	Value      oauthclient.Secret   `yaml:"value" json:"value,omitempty"`           // fixed: ${VAR} or file: (read at load time)
	Definition string               `yaml:"definition" json:"definition,omitempty"` // another security definition's access token
}

// securityKey is what a key of a security definition applies to, as the
// use and grant tags of its field say: each field is declared once, with
// the types (and the oauth2 grant) it belongs to.
type securityKey struct {
	types []string // the types that accept it
	grant string   // the oauth2 grant it belongs to; "" for any
}

// securityKeys are the keys of SecurityConfig, from its fields' tags.
var securityKeys = sync.OnceValue(func() map[string]securityKey {
	keys := map[string]securityKey{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if strings.Contains(opts, "inline") {
				walk(f.Type)
				continue
			}
			keys[name] = securityKey{types: strings.Fields(f.Tag.Get("use")), grant: f.Tag.Get("grant")}
		}
	}
	walk(reflect.TypeFor[SecurityConfig]())
	return keys
})

// securityFields lists the keys a security type accepts besides "type";
// ok is false for an unknown type.
func securityFields(typ string) ([]string, bool) {
	switch typ {
	case typeOAuth2, typeLogin, typeBasic, typeAPIKey, typeBearer, typeNone:
	default:
		return nil, false
	}
	var out []string
	for name, k := range securityKeys() {
		if slices.Contains(k.types, typ) {
			out = append(out, name)
		}
	}
	return out, true
}

// securityTypes is how problems list the known types.
const securityTypes = "oauth2, login, basic, apikey, bearer or none"

// imported reports whether a bearer definition is an imported token that
// is read again when it is due (rather than a fixed one).
func (sc SecurityConfig) imported() bool {
	return sc.Type == typeBearer && (sc.TokenFrom != nil || sc.ExpiresAt != "")
}

// checkGrant checks what of an oauth2, login or imported bearer definition
// oauthclient cannot: which grant fields apply, the suppliers and the
// definitions they name. It returns false after a problem that makes
// building the definition pointless.
func (r *configReader) checkGrant(where, name string, sc SecurityConfig) bool {
	ok := true
	bad := func(field, format string, args ...any) {
		r.add(where, field, 0, format, args...)
		ok = false
	}
	if sc.Type == typeOAuth2 {
		switch sc.Grant {
		case "", grantClientCredentials, grantJWTBearer, grantTokenExchange, grantRefreshToken:
		default:
			bad("grant", "%q is unknown (want client_credentials, jwt_bearer, token_exchange or refresh_token)", sc.Grant)
			return false
		}
		grant := cmp.Or(sc.Grant, grantClientCredentials)
		for _, f := range setFields(sc) {
			if g := securityKeys()[f].grant; g != "" && g != grant {
				bad(f, "does not apply to grant %s (it is for %s)", grant, g)
			}
		}
		if grant != grantClientCredentials && r.users.smartOnly(name) && sc.TokenURL == "" && sc.Issuer == "" {
			bad("grant", "a SMART definition (smart: true, no token_url) uses client credentials")
		}
		switch grant {
		case grantTokenExchange:
			if sc.SubjectToken == nil {
				bad("subject_token", "missing: the token to exchange")
			}
		case grantRefreshToken:
			if sc.RefreshToken == nil {
				bad("refresh_token", "missing: the refresh token obtained by authorising once (see examples/authorize)")
			}
		}
	}
	if sc.imported() {
		if !sc.Token.IsZero() && sc.TokenFrom != nil {
			bad("token_from", "set token or token_from, not both")
		}
		if sc.Token.IsZero() && sc.TokenFrom == nil {
			bad("token", "missing (or token_from, to read it again when it is due)")
		}
		if sc.DefaultLifetime < 0 {
			bad("default_lifetime", "must not be negative")
		}
		if sc.ExpiresAt != "" {
			if _, err := time.Parse(time.RFC3339, sc.ExpiresAt); err != nil {
				bad("expires_at", "want an RFC 3339 date such as 2026-06-30T00:00:00Z")
			}
		}
	}
	if sc.Type == typeBearer && !sc.imported() && sc.Scheme != "" {
		bad("scheme", "applies to an imported token (token_from or expires_at)")
	}
	for field, s := range map[string]*SupplierConfig{"assertion": sc.Assertion, "subject_token": sc.SubjectToken,
		"actor_token": sc.ActorToken, "refresh_token": sc.RefreshToken, "token_from": sc.TokenFrom} {
		if s != nil && !r.checkSupplier(where, field, name, s) {
			ok = false
		}
	}
	return ok
}

// checkReferences checks the definitions that subject_token and
// actor_token name: they exist, have a token source, and do not come
// back in a cycle.
func (r *configReader) checkReferences(security map[string]SecurityConfig) {
	for _, name := range slices.Sorted(maps.Keys(security)) {
		where := fmt.Sprintf("security %q", name)
		sc := security[name]
		if r.broken[where] || sc.Type != typeOAuth2 || sc.Grant != grantTokenExchange {
			continue
		}
		for field, s := range map[string]*SupplierConfig{"subject_token": sc.SubjectToken, "actor_token": sc.ActorToken} {
			if s == nil || s.Definition == "" || s.Definition == name {
				continue
			}
			other, ok := security[s.Definition]
			switch {
			case !ok:
				r.add(where, field+".definition", 0, "unknown security definition %q (known: %s)", s.Definition, listOrNone(slices.Sorted(maps.Keys(security))))
			case other.Type != typeOAuth2 && other.Type != typeLogin && !other.imported():
				r.add(where, field+".definition", 0, "%q is %s, which has no token source (want oauth2, login or an imported bearer token)", s.Definition, other.Type)
			}
		}
		if cycle := referenceCycle(name, security); cycle != "" {
			r.add(where, "subject_token", 0, "definitions refer to each other in a cycle: %s", cycle)
		}
	}
}

// checkStateFiles checks that no two refresh_token definitions share a
// refresh_state_file: each would overwrite the other's family in it.
func (r *configReader) checkStateFiles(security map[string]SecurityConfig) {
	owner := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(security)) {
		sc := security[name]
		if sc.RefreshStateFile == "" || sc.Grant != grantRefreshToken {
			continue
		}
		path := filepath.Clean(sc.RefreshStateFile)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		if first, ok := owner[path]; ok {
			r.add(fmt.Sprintf("security %q", first), "refresh_state_file", 0, "security definition %q names the same file: each definition needs its own", name)
			continue
		}
		owner[path] = name
	}
}

// checkSupplier checks one supplier section.
func (r *configReader) checkSupplier(where, field, self string, s *SupplierConfig) bool {
	n := 0
	for _, set := range []bool{s.File != "", len(s.Command) > 0, !s.Value.IsZero(), s.Definition != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		r.add(where, field, 0, "empty: give one of file, command, value or definition")
		return false
	case n > 1:
		r.add(where, field, 0, "give one of file, command, value or definition, not several")
		return false
	case len(s.Command) > 0 && s.Command[0].IsZero():
		r.add(where, field+".command", 0, "the first element is the program to run")
		return false
	case s.Definition != "" && field != "subject_token" && field != "actor_token":
		r.add(where, field+".definition", 0, "only a subject_token or actor_token may be another definition's token")
		return false
	case s.Definition == self:
		r.add(where, field+".definition", 0, "a definition cannot exchange its own token")
		return false
	}
	return true
}

// referenceCycle returns "a → b → a" when the definitions that name, from
// start, another's token through subject_token or actor_token come back to
// one of them; "" otherwise.
func referenceCycle(start string, security map[string]SecurityConfig) string {
	path := []string{start}
	seen := map[string]bool{start: true}
	var walk func(name string) string
	walk = func(name string) string {
		sc := security[name]
		for _, s := range []*SupplierConfig{sc.SubjectToken, sc.ActorToken} {
			if s == nil || s.Definition == "" {
				continue
			}
			if seen[s.Definition] {
				if s.Definition == start {
					return strings.Join(append(path, start), " → ")
				}
				continue
			}
			seen[s.Definition] = true
			path = append(path, s.Definition)
			if c := walk(s.Definition); c != "" {
				return c
			}
			path = path[:len(path)-1]
		}
		return ""
	}
	return walk(start)
}

// grantOf builds the oauthclient grant of a definition: nil for client
// credentials and the static types. A definition: supplier looks the
// other definition up in reg at each use (nil while checking: it is never
// asked then).
func grantOf(sc SecurityConfig, reg *oauthclient.Registry) oauthclient.Grant {
	switch {
	case sc.Type == typeLogin:
		return oauthclient.Login{Method: sc.Method, Body: sc.Body, ClientIDField: sc.ClientIDField, ClientSecretField: sc.ClientSecretField,
			Fields: sc.Fields, Header: sc.Headers, TokenPath: sc.TokenPath, ExpiresInPath: sc.ExpiresInPath, ExpiresAtPath: sc.ExpiresAtPath,
			Scheme: sc.Scheme}
	case sc.imported():
		g := oauthclient.Imported{Token: supplierOf(sc.TokenFrom, reg), Scheme: sc.Scheme}
		if sc.TokenFrom == nil {
			g.Token = oauthclient.ValueSupplier(sc.Token, time.Time{})
		}
		g.Expiry, _ = time.Parse(time.RFC3339, sc.ExpiresAt)
		return g
	case sc.Type != typeOAuth2:
		return nil
	}
	switch sc.Grant {
	case grantJWTBearer:
		g := oauthclient.JWTBearer{Assertion: supplierOf(sc.Assertion, reg), Issuer: sc.AssertionIssuer, Subject: sc.AssertionSubject}
		if len(sc.AssertionClaims) > 0 {
			g.Claims = map[string]any{}
			for k, v := range sc.AssertionClaims {
				g.Claims[k] = v
			}
		}
		return g
	case grantTokenExchange:
		return oauthclient.TokenExchange{SubjectToken: supplierOf(sc.SubjectToken, reg), SubjectTokenType: tokenTypeURN(sc.SubjectTokenType),
			ActorToken: supplierOf(sc.ActorToken, reg), ActorTokenType: tokenTypeURN(sc.ActorTokenType),
			RequestedTokenType: tokenTypeURN(sc.RequestedTokenType)}
	case grantRefreshToken:
		return oauthclient.RefreshToken{Token: supplierOf(sc.RefreshToken, reg), Lifetime: sc.RefreshLifetime, StateFile: sc.RefreshStateFile}
	}
	return nil
}

// tokenTypeURN accepts a token type by its short name (access_token, jwt,
// id_token, refresh_token, saml1, saml2) or its URN.
func tokenTypeURN(t string) string {
	switch t {
	case "access_token", "refresh_token", "id_token", "jwt", "saml1", "saml2":
		return "urn:ietf:params:oauth:token-type:" + t
	}
	return t
}

// supplierOf builds the supplier a section describes; nil for none.
func supplierOf(s *SupplierConfig, reg *oauthclient.Registry) oauthclient.Supplier {
	switch {
	case s == nil:
		return nil
	case s.File != "":
		return oauthclient.FileSupplier(s.File)
	case len(s.Command) > 0:
		args := make([]string, len(s.Command)-1)
		for i, a := range s.Command[1:] {
			args[i] = a.Reveal()
		}
		return oauthclient.CommandSupplier(s.Command[0].Reveal(), args...)
	case s.Definition != "" && reg != nil:
		return reg.Supplier(s.Definition)
	case s.Definition != "":
		return oauthclient.SupplierFunc(unbound)
	}
	return oauthclient.ValueSupplier(s.Value, time.Time{})
}

// unbound stands for another definition's token while a configuration is
// checked: it is never asked.
func unbound(context.Context) (string, time.Time, error) {
	return "", time.Time{}, errors.New("not bound to a registry")
}

// checkTokenSource builds a login or imported definition's source, as
// Open will, to report what oauthclient finds wrong by field.
func (r *configReader) checkTokenSource(where, name string, sc SecurityConfig) {
	cfg, errs := oauthConfig(name, sc, r.set.Read)
	for _, e := range errs {
		r.add(where, e.field, 0, "%s", e.reason)
	}
	if len(errs) > 0 {
		return
	}
	if err := r.checkSource(cfg); err != nil {
		var ce *oauthclient.ConfigError
		if errors.As(err, &ce) && sc.imported() && ce.Field == "token" {
			ce.Field = "token_from"
		}
		r.addOAuthError(where, err)
	}
}

// defineSource builds the token source of an oauth2, login or imported
// bearer definition; another definition's token it exchanges is looked up
// in the registry at each use.
func (r *Registry) defineSource(name string, sc SecurityConfig) (def, *oauthclient.Source, error) {
	cfg, errs := oauthConfig(name, sc, r.set.Read)
	if len(errs) > 0 {
		return def{}, nil, fmt.Errorf("backends: security %q: %s: %s", name, errs[0].field, errs[0].reason)
	}
	cfg.Grant = grantOf(sc, r.security)
	src, err := oauthclient.NewSource(cfg, r.tokenOpts)
	if err != nil {
		return def{}, nil, fmt.Errorf("backends: %w", err)
	}
	return def{rest.OAuth(src), typeOAuth2}, src, nil
}
