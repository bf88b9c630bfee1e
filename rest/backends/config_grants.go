package backends

import (
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/tokenwire/tokenwire/oauthclient"
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

// securityEntry is a security definition as the file writes it: the
// fields of SecurityConfig (oauthclient.Config's among them) and of every
// grant side by side, and the grant's name. assemble makes a
// SecurityConfig of it, whose Config.Grant is the grant named. Every key
// is declared once, by the field it fills; the use tag says which types
// take the keys of a field (those of an inline one: all its keys), the
// grant tag which oauth2 grant.
type securityEntry struct {
	SecurityConfig `yaml:",inline"`
	// Grant names oauth2's grant: client_credentials (the default),
	// jwt_bearer, token_exchange or refresh_token.
	Grant         string                    `yaml:"grant" use:"oauth2"`
	JWTBearer     oauthclient.JWTBearer     `yaml:",inline" use:"oauth2" grant:"jwt_bearer"`
	TokenExchange oauthclient.TokenExchange `yaml:",inline" use:"oauth2" grant:"token_exchange"`
	RefreshToken  oauthclient.RefreshToken  `yaml:",inline" use:"oauth2" grant:"refresh_token"`
	Login         oauthclient.Login         `yaml:",inline" use:"login"`
	// Imported is a bearer token read again when it is due. Its scheme
	// key is Login's (the same key for both types).
	Imported oauthclient.Imported `yaml:",inline" use:"bearer"`
}

// configAlso are the keys of oauthclient.Config that apply to more types
// than oauth2 (as oauthclient.Login and Imported document).
var configAlso = map[string][]string{
	"token_url": {typeLogin}, "client_id": {typeLogin}, "client_secret": {typeLogin}, "auth_method": {typeLogin},
	"timeout": {typeLogin}, "default_lifetime": {typeLogin, typeBearer}, "cert_file": {typeLogin}, "key_file": {typeLogin},
}

// securityKey is what a key of a security definition applies to.
type securityKey struct {
	types []string // the types that accept it ("any": all)
	grant string   // the oauth2 grant it belongs to; "" for any
}

// securityKeys are the keys of securityEntry, from its fields' tags.
var securityKeys = sync.OnceValue(func() map[string]securityKey {
	keys := map[string]securityKey{}
	var walk func(t reflect.Type, use, grant string)
	walk = func(t reflect.Type, use, grant string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			u, g := cmp.Or(f.Tag.Get("use"), use), cmp.Or(f.Tag.Get("grant"), grant)
			if strings.Contains(opts, "inline") {
				walk(f.Type, u, g)
				continue
			}
			k := keys[name]
			for _, typ := range append(strings.Fields(u), configAlso[name]...) {
				if !slices.Contains(k.types, typ) {
					k.types = append(k.types, typ)
				}
			}
			k.grant = cmp.Or(k.grant, g)
			keys[name] = k
		}
	}
	walk(reflect.TypeFor[securityEntry](), "", "")
	return keys
})

// knownType reports whether typ is a security definition type.
func knownType(typ string) bool {
	switch typ {
	case typeOAuth2, typeLogin, typeBasic, typeAPIKey, typeBearer, typeNone:
		return true
	}
	return false
}

// securityTypes is how problems list the known types.
const securityTypes = "oauth2, login, basic, apikey, bearer or none"

// imported reports whether a bearer definition is an imported token that
// is read again when it is due (rather than a fixed one).
func (sc SecurityConfig) imported() bool {
	_, ok := sc.Grant.(oauthclient.Imported)
	return sc.Type == typeBearer && ok
}

// grantName is the oauth2 grant of sc, as the file names it.
func grantName(sc SecurityConfig) string {
	switch sc.Grant.(type) {
	case oauthclient.JWTBearer, *oauthclient.JWTBearer:
		return grantJWTBearer
	case oauthclient.TokenExchange, *oauthclient.TokenExchange:
		return grantTokenExchange
	case oauthclient.RefreshToken, *oauthclient.RefreshToken:
		return grantRefreshToken
	}
	return grantClientCredentials
}

// assemble makes the SecurityConfig of the entry called name, reporting
// the keys that do not apply to its type or grant and what of its grant
// and suppliers oauthclient cannot check. An entry whose type or grant is
// unknown is marked broken: nothing else refers to it in a problem.
func (r *configReader) assemble(where, name string, e securityEntry) SecurityConfig {
	sc := e.SecurityConfig
	sc.Config.Name = name
	if !knownType(sc.Type) {
		r.add(where, "type", 0, "%s (want %s)", quoteOrMissing(sc.Type), securityTypes)
		r.broken[where] = true
		return sc
	}
	grant := cmp.Or(e.Grant, grantClientCredentials)
	misspelt := r.misspelt(where, "grant") // which grant is meant is unknown
	for _, f := range nonZeroFields(reflect.ValueOf(e)) {
		k := securityKeys()[f]
		switch {
		case f == "type":
		case !slices.Contains(k.types, sc.Type):
			r.add(where, f, 0, "does not apply to type %s", sc.Type)
		case sc.Type == typeOAuth2 && k.grant != "" && k.grant != grant && !misspelt:
			r.add(where, f, 0, "does not apply to grant %s (it is for %s)", grant, k.grant)
		}
	}
	if misspelt && sc.Type == typeOAuth2 {
		r.broken[where] = true // as an unknown grant: the misspelt key is the one problem
		return sc
	}
	switch sc.Type {
	case typeOAuth2:
		switch grant {
		case grantClientCredentials:
		case grantJWTBearer:
			sc.Grant = e.JWTBearer
		case grantTokenExchange:
			sc.Grant = e.TokenExchange
		case grantRefreshToken:
			sc.Grant = e.RefreshToken
		default:
			r.add(where, "grant", 0, "%q is unknown (want client_credentials, jwt_bearer, token_exchange or refresh_token)", e.Grant)
			r.broken[where] = true
			return sc
		}
	case typeLogin:
		sc.Grant = e.Login
	case typeBearer:
		r.assembleBearer(where, &sc, e)
	}
	r.checkSuppliers(where, name, sc.Grant)
	return sc
}

// assembleBearer makes an imported token of a bearer definition with
// token_from or expires_at.
func (r *configReader) assembleBearer(where string, sc *SecurityConfig, e securityEntry) {
	imp := e.Imported
	if imp.Token == nil && imp.Expiry.IsZero() {
		if e.Login.Scheme != "" {
			r.add(where, "scheme", 0, "applies to an imported token (token_from or expires_at)")
		}
		return
	}
	imp.Scheme = e.Login.Scheme
	switch {
	case imp.Token != nil && !sc.Token.IsZero():
		r.add(where, "token_from", 0, "set token or token_from, not both")
	case imp.Token == nil && sc.Token.IsZero():
		r.add(where, "token", 0, "missing (or token_from, to read it again when it is due)")
	case imp.Token == nil:
		imp.Token = &supplierSection{Value: sc.Token}
	}
	if sc.DefaultLifetime < 0 {
		r.add(where, "default_lifetime", 0, "must not be negative")
	}
	sc.Grant = imp
}

// suppliers returns the suppliers of grant g the file wrote, by key.
func suppliers(g oauthclient.Grant) map[string]*supplierSection {
	out := map[string]*supplierSection{}
	add := func(key string, s oauthclient.Supplier) {
		if ss, ok := s.(*supplierSection); ok {
			out[key] = ss
		}
	}
	switch g := g.(type) {
	case oauthclient.JWTBearer:
		add("assertion", g.Assertion)
	case oauthclient.TokenExchange:
		add("subject_token", g.SubjectToken)
		add("actor_token", g.ActorToken)
	case oauthclient.RefreshToken:
		add("refresh_token", g.Token)
	case oauthclient.Imported:
		add("token_from", g.Token)
	}
	return out
}

// checkSuppliers checks the supplier sections of a grant; a definition
// with a bad one is marked broken (not built, not named again).
func (r *configReader) checkSuppliers(where, self string, g oauthclient.Grant) {
	for _, field := range slices.Sorted(maps.Keys(suppliers(g))) {
		if !r.checkSupplier(where, field, self, suppliers(g)[field]) {
			r.broken[where] = true
		}
	}
}

// checkSMARTGrant checks that a SMART definition (used only by smart: true
// FHIR connections, with no token_url) uses client credentials.
func (r *configReader) checkSMARTGrant(where, name string, sc SecurityConfig) bool {
	if grantName(sc) != grantClientCredentials && r.users.smartOnly(name) && sc.TokenURL == "" && sc.Issuer == "" {
		r.add(where, "grant", 0, "a SMART definition (smart: true, no token_url) uses client credentials")
		return false
	}
	return true
}

// checkReferences checks the definitions that subject_token and
// actor_token name: they exist, have a token source, and do not come
// back in a cycle. A definition that is itself broken is not named again.
func (r *configReader) checkReferences(security map[string]SecurityConfig) {
	for _, name := range slices.Sorted(maps.Keys(security)) {
		where := fmt.Sprintf("security %q", name)
		sc := security[name]
		if r.broken[where] || sc.Type != typeOAuth2 {
			continue
		}
		refs := references(sc)
		for _, field := range slices.Sorted(maps.Keys(refs)) {
			def := refs[field]
			other, ok := security[def]
			switch {
			case def == name:
			case !ok:
				r.add(where, field+".definition", 0, "unknown security definition %q (known: %s)", def, listOrNone(slices.Sorted(maps.Keys(security))))
			case r.broken[fmt.Sprintf("security %q", def)]:
			case other.Type != typeOAuth2 && other.Type != typeLogin && !other.imported():
				r.add(where, field+".definition", 0, "%q is %s, which has no token source (want oauth2, login or an imported bearer token)", def, other.Type)
			}
		}
		if cycle := referenceCycle(name, security); cycle != "" {
			r.add(where, "subject_token", 0, "definitions refer to each other in a cycle: %s", cycle)
		}
	}
}

// references returns the definitions whose tokens sc exchanges, by key.
func references(sc SecurityConfig) map[string]string {
	out := map[string]string{}
	if _, ok := sc.Grant.(oauthclient.TokenExchange); !ok {
		return out
	}
	for field, s := range suppliers(sc.Grant) {
		if s.Definition != "" {
			out[field] = s.Definition
		}
	}
	return out
}

// checkStateFiles checks that no two refresh_token definitions share a
// refresh_state_file: each would overwrite the other's family in it.
func (r *configReader) checkStateFiles(security map[string]SecurityConfig) {
	owner := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(security)) {
		g, ok := security[name].Grant.(oauthclient.RefreshToken)
		if !ok || g.StateFile == "" {
			continue
		}
		path := filepath.Clean(g.StateFile)
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
func (r *configReader) checkSupplier(where, field, self string, s *supplierSection) bool {
	n := 0
	for _, set := range []bool{s.File != "", len(s.Command) > 0, !s.Value.IsZero(), s.Definition != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		r.add(where, field, 0, "empty: give one of file, command, value or definition")
	case n > 1:
		r.add(where, field, 0, "give one of file, command, value or definition, not several")
	case len(s.Command) > 0 && s.Command[0].IsZero():
		r.add(where, field+".command", 0, "the first element is the program to run")
	case s.Definition != "" && field != "subject_token" && field != "actor_token":
		r.add(where, field+".definition", 0, "only a subject_token or actor_token may be another definition's token")
	case s.Definition == self:
		r.add(where, field+".definition", 0, "a definition cannot exchange its own token")
	default:
		return true
	}
	return false
}

// referenceCycle returns "a → b → a" when the definitions that name, from
// start, another's token through subject_token or actor_token come back to
// one of them; "" otherwise.
func referenceCycle(start string, security map[string]SecurityConfig) string {
	path := []string{start}
	seen := map[string]bool{start: true}
	var walk func(name string) string
	walk = func(name string) string {
		refs := references(security[name])
		for _, field := range []string{"subject_token", "actor_token"} {
			def, ok := refs[field]
			if !ok {
				continue
			}
			if seen[def] {
				if def == start {
					return strings.Join(append(path, start), " → ")
				}
				continue
			}
			seen[def] = true
			path = append(path, def)
			if c := walk(def); c != "" {
				return c
			}
			path = path[:len(path)-1]
		}
		return ""
	}
	return walk(start)
}
