package rest

import (
	"fmt"
	"reflect"
	"strings"
)

// secretFields are the yaml keys whose values may be file: references and
// are never echoed (ours, and cache/redis's).
var secretFields = map[string]bool{
	"client_secret": true, "private_key": true, "password": true, "value": true, "token": true,
	"sentinel_password": true, "encryption_keys": true,
}

// maxSecretFile bounds what a file: reference reads.
const maxSecretFile = 1 << 20

// resolve expands ${VAR} references in every string of v (a pointer to a
// decoded entry), and file: references in secret fields.
func (r *configReader) resolve(where string, v any) {
	r.resolveValue(where, "", reflect.ValueOf(v).Elem(), false)
}

func (r *configReader) resolveValue(where, field string, v reflect.Value, secret bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			r.resolveValue(where, field, v.Elem(), secret)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			sub := field
			if !strings.Contains(opts, "inline") {
				sub = joinField(field, name)
			}
			r.resolveValue(where, sub, v.Field(i), secretFields[name])
		}
	case reflect.Slice:
		for i := range v.Len() {
			r.resolveValue(where, fmt.Sprintf("%s[%d]", field, i), v.Index(i), secret)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			r.resolveValue(where, joinField(field, k.String()), e, secret)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		s, ok := r.resolveString(where, field, v.String(), secret)
		if ok {
			v.SetString(s)
		}
	}
}

func joinField(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// resolveString expands s; ok is false after a problem was reported.
func (r *configReader) resolveString(where, field, s string, secret bool) (string, bool) {
	s, err := expandEnv(s, r.lookupEnv)
	if err != nil {
		r.add(where, field, 0, "%v", err)
		return "", false
	}
	if !secret || !strings.HasPrefix(s, "file:") {
		return s, true
	}
	path := strings.TrimPrefix(s, "file:")
	b, err := r.readFile(path)
	switch {
	case err != nil:
		r.add(where, field, 0, "cannot read %s: %v", path, unwrapPathError(err))
		return "", false
	case len(b) > maxSecretFile:
		r.add(where, field, 0, "%s is larger than 1 MiB", path)
		return "", false
	}
	return strings.TrimRight(string(b), "\r\n"), true
}

// expandEnv replaces ${NAME} and ${NAME:-default} using lookup; "$$"
// stands for "$". A "$" followed by anything else is kept.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
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
		case !ok && hasDef:
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
