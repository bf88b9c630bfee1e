package backends

import (
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/internal/tlsconf"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// secretType is the type of every secret field: only such a field may be
// a file: reference, and its value is never echoed.
var secretType = reflect.TypeFor[oauthclient.Secret]()

// resolveAll expands the references of every decoded entry.
func (r *configReader) resolveAll(cfg *Config, security map[string]securityEntry) {
	for name, cc := range cfg.REST {
		r.resolve(fmt.Sprintf("rest %q", name), &cc)
		cfg.REST[name] = cc
	}
	for name, fc := range cfg.FHIR {
		r.resolve(fmt.Sprintf("fhir %q", name), &fc)
		cfg.FHIR[name] = fc
	}
	for name, e := range security {
		r.resolve(fmt.Sprintf("security %q", name), &e)
		security[name] = e
	}
	if cfg.Store.Memory != nil {
		r.resolve("store", cfg.Store.Memory)
	}
	if v := reflect.ValueOf(cfg.Store.Shared); v.Kind() == reflect.Pointer && !v.IsNil() {
		r.resolveValue("store", cfg.Store.SharedName, v.Elem())
	}
}

// resolve expands ${VAR} references in every string of v (a pointer to a
// decoded entry), and file: references in secret fields. Entries that did
// not decode are left alone.
func (r *configReader) resolve(where string, v any) {
	if r.broken[where] {
		return
	}
	r.resolveValue(where, "", reflect.ValueOf(v).Elem())
}

// resolveValue resolves v and what it holds: a Secret may be a file:
// reference; any other string is only expanded.
func (r *configReader) resolveValue(where, field string, v reflect.Value) {
	if v.Type() == secretType {
		s, ok := r.resolveString(where, field, v.Interface().(oauthclient.Secret).Reveal(), true)
		if ok && s == redact.Mark {
			r.add(where, field, 0, "%s is what a printed configuration shows in place of a secret: write the secret back (or ${VAR}, or file:)", redact.Mark)
			return
		}
		if ok && v.CanSet() {
			v.Set(reflect.ValueOf(oauthclient.NewSecret(s)))
		}
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		switch {
		case v.IsNil():
		case v.Elem().Kind() == reflect.String && v.CanSet(): // a claim of assertion_claims
			if s, ok := r.resolveString(where, field, v.Elem().String(), false); ok {
				v.Set(reflect.ValueOf(s))
			}
		default:
			r.resolveValue(where, field, v.Elem())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			r.resolveValue(where, field, v.Elem())
		}
	case reflect.Struct:
		for _, f := range yamlStruct(v.Type()) {
			sub := field
			if !f.inline {
				sub = joinField(field, f.name)
			}
			r.resolveValue(where, sub, v.Field(f.index))
		}
	case reflect.Slice:
		for i := range v.Len() {
			r.resolveValue(where, fmt.Sprintf("%s[%d]", field, i), v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type())) // "headers: {}" is no headers, as the key left out is
			return
		}
		if et := v.Type().Elem(); et.Kind() != reflect.String && et.Kind() != reflect.Interface && et != secretType {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			r.resolveValue(where, joinField(field, k.String()), e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		s, ok := r.resolveString(where, field, v.String(), false)
		if ok && printedSecret(s) {
			r.add(where, field, 0, "%s in its query is what a printed configuration shows in place of a key: write the key back (or ${VAR})", redact.Mark)
			return
		}
		if ok && v.CanSet() {
			v.SetString(s)
		}
	}
}

// printedSecret reports whether s is a URL that a printed configuration
// wrote ([printedURL]): a query value that is the redaction mark.
func printedSecret(s string) bool {
	if !strings.Contains(s, redact.Mark) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	for _, vs := range u.Query() {
		if slices.Contains(vs, redact.Mark) {
			return true
		}
	}
	return false
}

func joinField(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// resolveString expands s; ok is false after a problem was reported. A
// secret written as file:/path is read from the file; "file:" is
// recognised before ${VAR} expansion (which may still build the path), so
// a value that comes from the environment is never taken for a path.
func (r *configReader) resolveString(where, field, s string, secret bool) (string, bool) {
	path, isFile := strings.CutPrefix(s, "file:")
	if !secret || !isFile {
		s, err := r.expand(where, field, s)
		if err != nil {
			r.add(where, field, 0, "%v", err)
			return "", false
		}
		return s, true
	}
	written := path
	path, err := r.expand(where, field, path)
	if err != nil {
		r.add(where, field, 0, "%v", err)
		return "", false
	}
	if path == "" {
		r.add(where, field, 0, "file: names no file")
		return "", false
	}
	b, err := r.set.Read(path)
	if err != nil {
		// A path built from variables is named as written: a variable
		// may hold the secret itself (file:${SECRET} for ${SECRET}).
		r.add(where, field, 0, "cannot read %s: %v", written, tlsconf.PathCause(err))
		return "", false
	}
	return strings.TrimRight(string(b), "\r\n"), true
}

// expand expands s, the value of field of where, noting the variables it
// uses that are set but empty: a problem of the field then names them.
func (r *configReader) expand(where, field, s string) (string, error) {
	lookup := r.set.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return expandEnv(s, func(name string) (string, bool) {
		v, ok := lookup(name)
		if p := (place{where, field}); ok && v == "" && !slices.Contains(r.empty[p], name) {
			r.empty[p] = append(r.empty[p], name)
		}
		return v, ok
	})
}

// emptyVars are the variables set but empty that the value of field of
// where, or of a key inside it, used.
func (r *configReader) emptyVars(where, field string) []string {
	if field == "" || len(r.empty) == 0 {
		return nil
	}
	var out []string
	for p, vars := range r.empty {
		if p.where == where && (p.field == field || strings.HasPrefix(p.field, field+".") || strings.HasPrefix(p.field, field+"[")) {
			for _, v := range vars {
				if !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// expandEnv replaces ${NAME} and ${NAME:-default} using lookup; "$$"
// stands for "$". A "$" followed by anything else is kept.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
			continue
		case '{':
		default:
			b.WriteByte('$')
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ reference")
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid variable name in a ${...} reference")
		}
		val, ok := lookup(name)
		switch {
		case (!ok || val == "") && hasDef: // unset or empty, as ${VAR:-default} in a shell
			val = def
		case !ok:
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
