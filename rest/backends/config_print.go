package backends

import (
	"bytes"
	"encoding"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// MarshalYAML writes the configuration as the file writes it: the file's
// keys, those left empty left out, durations as 5s, a definition's grant
// by name beside its keys, a shared store's section under its name, and
// a $ in a value as $$ (the loader would take ${X} for a variable).
// Secrets show as [redacted] (their type prints them so).
func (c Config) MarshalYAML() (any, error) { return c.file(), nil }

// MarshalJSON writes the configuration as MarshalYAML does.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.file()) }

// file is the configuration as the file writes it. A section or an entry
// that is there, even empty, stays: a section written out empty removes
// its entries on a reload, an empty memory store is one.
func (c Config) file() mapping {
	var m mapping
	if c.Security != nil {
		sec := make(map[string]any, len(c.Security))
		for name, sc := range c.Security {
			sec[name] = securityFile(sc)
		}
		m = append(m, keyValue{"security", sec})
	}
	for _, s := range []struct {
		name  string
		conns reflect.Value
	}{{"rest", reflect.ValueOf(c.REST)}, {"fhir", reflect.ValueOf(c.FHIR)}} {
		if s.conns.IsNil() {
			continue
		}
		conns := make(map[string]any, s.conns.Len())
		for it := s.conns.MapRange(); it.Next(); {
			conns[it.Key().String()] = fileStruct(it.Value())
		}
		m = append(m, keyValue{s.name, conns})
	}
	var store mapping
	if c.Store.Memory != nil {
		store = append(store, keyValue{"memory", fileStruct(reflect.ValueOf(*c.Store.Memory))})
	}
	if v, ok := fileValue(reflect.ValueOf(c.Store.Shared)); ok {
		store = append(store, keyValue{c.Store.SharedName, v})
	}
	if store != nil {
		m = append(m, keyValue{"store", store})
	}
	return m
}

// securityFile is a security definition as the file writes it: its keys,
// then, for an oauth2 definition, the grant's name after its type, and
// the keys of its grant (login's, an imported token's) after its own.
func securityFile(sc SecurityConfig) mapping {
	m := fileStruct(reflect.ValueOf(sc))
	if sc.Grant == nil {
		return m
	}
	if name := grantName(sc); sc.Type == typeOAuth2 && name != grantClientCredentials {
		m = append(m[:1:1], append(mapping{{"grant", name}}, m[1:]...)...) // after type, the first key
	}
	for _, kv := range fileStruct(reflect.Indirect(reflect.ValueOf(sc.Grant))) {
		if kv.key == "token_from" && !sc.Token.IsZero() {
			continue // token: written as such is the imported token's first value
		}
		m = append(m, kv)
	}
	return m
}

var grantType = reflect.TypeFor[oauthclient.Grant]()

// fileStruct is struct v as a mapping of its keys, inline fields'
// included; its grant is securityFile's.
func fileStruct(v reflect.Value) mapping {
	m := mapping{}
	for _, f := range yamlStruct(v.Type()) {
		fv := v.Field(f.index)
		switch {
		case f.inline:
			m = append(m, fileStruct(fv)...)
		case fv.Type() == grantType:
		default:
			if x, ok := fileValue(fv); ok {
				m = append(m, keyValue{f.name, x})
			}
		}
	}
	return m
}

var (
	durationType      = reflect.TypeFor[time.Duration]()
	yamlMarshalerType = reflect.TypeFor[yaml.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
)

// fileValue is v as the file writes it, and whether it is written at all
// (not when zero, except a pointer to an empty mapping: memory: {}).
func fileValue(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	switch t := v.Type(); {
	case t == durationType:
		return v.Interface().(time.Duration).String(), !v.IsZero()
	case t == timeType:
		return v.Interface().(time.Time).Format(time.RFC3339Nano), !v.IsZero()
	case t.Implements(yamlMarshalerType) || t.Implements(textMarshalerType) || t.Implements(jsonMarshalerType):
		return v.Interface(), !v.IsZero() // a secret, which prints itself
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		if x, ok := fileValue(v.Elem()); ok || reflect.Indirect(v.Elem()).Kind() != reflect.Struct {
			return x, ok
		}
		return mapping{}, true
	case reflect.Struct:
		m := fileStruct(v)
		return m, len(m) > 0
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = element(v.Index(i))
		}
		return out, len(out) > 0
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()] = element(it.Value())
		}
		return out, len(out) > 0
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return nil, false
	case reflect.String: // loaded again, $ would start a ${VAR}: $$ is a $
		return strings.ReplaceAll(printedURL(v.String()), "$", "$$"), v.Len() > 0
	}
	return v.Interface(), !v.IsZero()
}

// element is an element of a list or a mapping: written even when zero.
func element(v reflect.Value) any {
	if x, ok := fileValue(v); ok {
		return x
	}
	if v.Kind() == reflect.Interface && v.IsNil() {
		return nil
	}
	return v.Interface()
}

// mapping is a mapping in the order the file writes its keys.
type mapping []keyValue

type keyValue struct {
	key   string
	value any
}

func (m mapping) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, kv := range m {
		var k, v yaml.Node
		if err := k.Encode(kv.key); err != nil {
			return nil, err
		}
		if err := v.Encode(kv.value); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &k, &v)
	}
	return n, nil
}

func (m mapping) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// printedURL is s with the values of the query parameters that carry a
// credential by name (api_key, token, sig…) replaced by [redacted] when s
// is an absolute URL that has one: a base_url may carry its key, and a
// printed configuration shows no secret. Other strings are as they are.
func printedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.RawQuery == "" || !secretQuery(u.Query()) {
		return s
	}
	u.RawQuery = redact.Query(u.RawQuery, redact.ShowValues)
	return u.String()
}

func secretQuery(q url.Values) bool {
	for k := range q {
		if redact.SecretParam(k) {
			return true
		}
	}
	return false
}
