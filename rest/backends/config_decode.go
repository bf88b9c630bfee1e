package backends

import (
	"cmp"
	"reflect"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// decodeFields decodes the values of mapping n one key at a time into the
// struct v, reporting each value of the wrong type with its field and line
// and leaving that field zero. Nested structs and maps are decoded the
// same way, so that decoding is linear in the number of keys (yaml.v3's
// own decoding of a mapping compares every key with every other: the
// keys were checked for duplicates already). It returns whether n was
// such a mapping (otherwise nothing was reported).
func (r *configReader) decodeFields(where, prefix string, n *yaml.Node, v reflect.Value) bool {
	if n.Kind != yaml.MappingNode || v.Kind() != reflect.Struct {
		return false
	}
	fields := yamlFieldIndex(v.Type())
	for _, kv := range r.pairs(where, prefix, n, v.Type()) {
		k, val := kv[0], kv[1]
		idx, ok := fields[k.Value]
		if !ok {
			continue // unknown keys are checkKeys' problem
		}
		r.decodeValue(where, prefix+k.Value, val, v.FieldByIndex(idx))
	}
	return true
}

// pairs returns the key-value pairs of mapping n in the order they apply:
// those of the mappings merged in (<<) first, a later one of a sequence
// before an earlier one, then n's own, so that each key ends with the
// value YAML gives it. A mapping merged twice at one place is applied once.
func (r *configReader) pairs(where, prefix string, n *yaml.Node, t reflect.Type) [][2]*yaml.Node {
	var merges, own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value != "<<" {
			own = append(own, [2]*yaml.Node{k, deref(val)})
			continue
		}
		ms := merged(val)
		for j := len(ms) - 1; j >= 0; j-- {
			m := ms[j]
			w := walked{where: where, prefix: prefix, n: m, t: t}
			if r.applied[w] || m.Kind != yaml.MappingNode {
				continue // applying a mapping twice changes nothing
			}
			if r.applied == nil {
				r.applied = map[walked]bool{}
			}
			r.applied[w] = true
			merges = append(merges, r.pairs(where, prefix, m, t)...)
		}
	}
	return append(merges, own...)
}

// decodeValue decodes val into the field f called field.
func (r *configReader) decodeValue(where, field string, val *yaml.Node, f reflect.Value) {
	switch {
	case f.Type() == supplierType && val.Kind == yaml.MappingNode: // {file}, {command}, {value} or {definition}
		s := &supplierSection{}
		r.decodeFields(where, field+".", val, reflect.ValueOf(s).Elem())
		f.Set(reflect.ValueOf(s))
		return
	case f.Type() == supplierType: // yaml would set whatever the scalar is
		if val.Tag != "!!null" {
			r.add(where, field, val.Line, "%s", typeReason(supplierType, nil))
		}
		return
	case f.Type() == timeType && val.Kind == yaml.ScalarNode:
		r.decodeTime(where, field, val, f)
		return
	case nestedStruct(f.Type()) && val.Kind == yaml.MappingNode:
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				f.Set(reflect.New(f.Type().Elem()))
			}
			f = f.Elem()
		}
		r.decodeFields(where, field+".", val, f)
		return
	case f.Kind() == reflect.Map && f.Type().Key().Kind() == reflect.String && val.Kind == yaml.MappingNode:
		m := reflect.MakeMapWithSize(f.Type(), len(val.Content)/2)
		for _, kv := range r.pairs(where, field+".", val, f.Type()) {
			k, ev := kv[0], kv[1]
			if k.Kind != yaml.ScalarNode {
				r.add(where, field, k.Line, "keys must be strings")
				continue
			}
			et := f.Type().Elem()
			if et.Kind() == reflect.Interface { // assertion_claims: strings, as the file writes them
				et = reflect.TypeFor[string]()
			}
			e := reflect.New(et)
			if err := ev.Decode(e.Interface()); err != nil {
				r.add(where, field+"."+shortKey(k.Value), ev.Line, "%s", typeReason(et, err))
				continue
			}
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(f.Type().Key()), e.Elem().Convert(f.Type().Elem()))
		}
		f.Set(m)
		return
	}
	tmp := reflect.New(f.Type())
	if err := val.Decode(tmp.Interface()); err != nil {
		r.add(where, field, val.Line, "%s", typeReason(f.Type(), err))
		return
	}
	f.Set(tmp.Elem())
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	supplierType = reflect.TypeFor[oauthclient.Supplier]()
)

// decodeTime decodes an RFC 3339 date (expires_at), which may come from
// ${VAR} (the date is expanded before it is read).
func (r *configReader) decodeTime(where, field string, val *yaml.Node, f reflect.Value) {
	s, err := r.expand(where, field, val.Value)
	if err != nil {
		r.add(where, field, val.Line, "%v", err)
		return
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		r.add(where, field, val.Line, "%s", typeReason(timeType, err))
		return
	}
	f.Set(reflect.ValueOf(t))
}

// nestedStruct reports whether values of t are decoded key by key.
func nestedStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(textUnmarshalerType) &&
		t != timeType
}

// typeReason says what a field of type t wants, without the value given.
func typeReason(t reflect.Type, err error) string {
	if t == reflect.TypeFor[time.Duration]() {
		return "want a duration such as 5s or 1m30s"
	}
	switch t {
	case secretType:
		return "want a string"
	case timeType:
		return "want an RFC 3339 date such as 2026-06-30T00:00:00Z"
	case supplierType:
		return "want a mapping with one of file, command, value or definition"
	}
	switch t.Kind() {
	case reflect.String:
		return "want a string"
	case reflect.Bool:
		return "want true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "want an integer"
	case reflect.Float32, reflect.Float64:
		return "want a number"
	case reflect.Slice, reflect.Array:
		return "want a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "want a mapping"
	}
	return stripLine(scrubYAML(err.Error()))
}

// stripLine drops yaml.v3's "line N: " (the Problem has the line).
func stripLine(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if _, after, ok := strings.Cut(rest, ": "); ok {
			return after
		}
	}
	return msg
}

// yamlField is a field of a struct as the file knows it.
type yamlField struct {
	index  int
	name   string // its key; "" for an inline field
	inline bool
}

// yamlStructs caches yamlStruct by type: the slice is never modified.
var yamlStructs sync.Map

// yamlStruct lists the exported fields of struct t that the file has (not
// tagged "-"), with their keys. The slice returned is shared.
func yamlStruct(t reflect.Type) []yamlField {
	if fs, ok := yamlStructs.Load(t); ok {
		return fs.([]yamlField)
	}
	var out []yamlField
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			out = append(out, yamlField{index: i, inline: true})
			continue
		}
		out = append(out, yamlField{index: i, name: cmp.Or(name, strings.ToLower(f.Name))})
	}
	yamlStructs.Store(t, out)
	return out
}

// fieldIndexes caches yamlFieldIndex by type: the map is never modified.
var fieldIndexes sync.Map

// yamlFieldIndex maps the yaml keys of struct t to their field indexes,
// through inline fields. The map returned is shared: not to be modified.
func yamlFieldIndex(t reflect.Type) map[string][]int {
	if m, ok := fieldIndexes.Load(t); ok {
		return m.(map[string][]int)
	}
	m := buildFieldIndex(t)
	fieldIndexes.Store(t, m)
	return m
}

// buildFieldIndex maps the keys of t to their fields; a key of two fields
// is the shallower one's (as in Go and encoding/json), else the first's.
func buildFieldIndex(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for _, f := range yamlStruct(t) {
		if !f.inline {
			out[f.name] = []int{f.index}
		}
	}
	for _, f := range yamlStruct(t) {
		if !f.inline {
			continue
		}
		for k, idx := range buildFieldIndex(t.Field(f.index).Type) {
			if old, ok := out[k]; !ok || len(old) > len(idx)+1 {
				out[k] = append([]int{f.index}, idx...)
			}
		}
	}
	return out
}
