package backends

import (
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeFields decodes the values of mapping n one key at a time into the
// struct v, reporting each value of the wrong type with its field and line
// and leaving that field zero. Nested structs are decoded the same way. It
// returns whether n was such a mapping (otherwise nothing was reported).
func (r *configReader) decodeFields(where, prefix string, n *yaml.Node, v reflect.Value) bool {
	if n.Kind != yaml.MappingNode || v.Kind() != reflect.Struct {
		return false
	}
	fields := yamlFieldIndex(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value == "<<" {
			for _, m := range merged(val) {
				w := walked{where: where, prefix: prefix, n: m, t: v.Type()}
				if r.applied[w] {
					continue // applying a mapping twice changes nothing
				}
				if r.applied == nil {
					r.applied = map[walked]bool{}
				}
				r.applied[w] = true
				r.decodeFields(where, prefix, m, v)
			}
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			continue // unknown keys are checkKeys' problem
		}
		f := v.FieldByIndex(idx)
		val = deref(val)
		if nestedStruct(f.Type()) && val.Kind == yaml.MappingNode {
			if f.Kind() == reflect.Pointer {
				if f.IsNil() {
					f.Set(reflect.New(f.Type().Elem()))
				}
				f = f.Elem()
			}
			r.decodeFields(where, prefix+k.Value+".", val, f)
			continue
		}
		tmp := reflect.New(f.Type())
		if err := val.Decode(tmp.Interface()); err != nil {
			r.add(where, prefix+k.Value, val.Line, "%s", typeReason(f.Type(), err))
			continue
		}
		f.Set(tmp.Elem())
	}
	return true
}

// nestedStruct reports whether values of t are decoded key by key.
func nestedStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(textUnmarshalerType) &&
		t != reflect.TypeFor[time.Time]()
}

// typeReason says what a field of type t wants, without the value given.
func typeReason(t reflect.Type, err error) string {
	if t == reflect.TypeFor[time.Duration]() {
		return "want a duration such as 5s or 1m30s"
	}
	if t == secretType {
		return "want a string"
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

// yamlFieldIndex maps the yaml keys of struct t to their field indexes,
// through inline fields.
func yamlFieldIndex(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "inline"):
			for k, idx := range yamlFieldIndex(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		out[name] = []int{i}
	}
	return out
}
