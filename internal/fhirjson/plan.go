package fhirjson

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// kind is what a plan decodes.
type kind uint8

const (
	kString kind = iota // string
	kNumber             // json.Number
	kBool
	kInt
	kRaw    // json.RawMessage
	kCode   // an enum with its own UnmarshalJSON and a Code method
	kStruct // a struct of supported fields
	kPtr    // a pointer to a supported type
	kSlice  // a slice of a supported type
)

// plan says how to decode one Go type. Plans are built once per type and
// never written after, so decoders share them without locks.
type plan struct {
	kind kind
	typ  reflect.Type
	elem *plan // kPtr, kSlice

	// kStruct
	fields  map[string]*field
	table   []*field // open addressing by hashName, at most half full
	mask    uint64
	order   []*field          // in declaration order, which FHIR JSON follows
	folded  map[string]*field // by ASCII-lower-cased name, to detect case-folded matches
	nfields int
	maxName int

	arrays [8]atomic.Value // kSlice: reflect.Type of [1<<k]elem

	code *codeTable // kCode
	ok   bool       // every type it reaches is supported
}

type field struct {
	name string
	head uint64 // the first 8 bytes of name, little-endian, zero-padded
	off  uintptr
	idx  int
	plan *plan
}

// is reports whether key is the field's name. key is a slice of the
// input, which goes on past it (at least its closing quote): its first
// eight bytes are compared as one word when there are eight to read.
func (f *field) is(key []byte) bool {
	n := len(key)
	if n != len(f.name) {
		return false
	}
	if cap(key) < 8 {
		return string(key) == f.name
	}
	w := binary.LittleEndian.Uint64(key[:8])
	if n < 8 {
		return w&(1<<(8*n)-1) == f.head
	}
	return w == f.head && string(key[8:]) == f.name[8:]
}

var (
	plansMu sync.Mutex
	plans   sync.Map // reflect.Type → *plan
)

var (
	rawType    = reflect.TypeFor[json.RawMessage]()
	numberType = reflect.TypeFor[json.Number]()
	unmarshalT = reflect.TypeFor[json.Unmarshaler]()
	textUnmT   = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
)

// maxFields bounds the fields of a struct the fast path decodes: their
// duplicate detection is a fixed bitset.
const maxFields = 256

// planFor returns the plan of t, building it (and every plan it reaches)
// on first use.
func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	plansMu.Lock()
	defer plansMu.Unlock()
	building := map[reflect.Type]*plan{}
	p := build(t, building)
	settle(building)
	for bt, bp := range building {
		plans.LoadOrStore(bt, bp)
	}
	return p
}

func build(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &plan{typ: t, ok: true}
	building[t] = p
	switch {
	case t.Kind() == reflect.Pointer:
		p.kind, p.elem = kPtr, build(t.Elem(), building)
	case t == rawType:
		p.kind = kRaw
	case t == numberType:
		p.kind = kNumber
	case reflect.PointerTo(t).Implements(unmarshalT):
		p.kind = kCode
		p.code = newCodeTable(t)
		p.ok = p.code != nil
	case reflect.PointerTo(t).Implements(textUnmT) || t.Implements(unmarshalT):
		p.ok = false
	default:
		buildKind(p, t, building)
	}
	return p
}

func buildKind(p *plan, t reflect.Type, building map[reflect.Type]*plan) {
	switch t.Kind() {
	case reflect.String:
		p.kind, p.ok = kString, t == reflect.TypeFor[string]()
	case reflect.Bool:
		p.kind, p.ok = kBool, t == reflect.TypeFor[bool]()
	case reflect.Int:
		p.kind, p.ok = kInt, t == reflect.TypeFor[int]()
	case reflect.Slice:
		p.kind, p.elem = kSlice, build(t.Elem(), building)
	case reflect.Struct:
		p.kind = kStruct
		p.ok = buildStruct(p, t, building)
	default:
		p.ok = false
	}
}

// buildStruct reads the fields as encoding/json would; it gives up (the
// type then decodes with encoding/json) on anything but plain exported,
// non-embedded fields with a name and at most omitempty in their tags.
func buildStruct(p *plan, t reflect.Type, building map[reflect.Type]*plan) bool {
	if t.NumField() > maxFields {
		return false
	}
	p.fields = map[string]*field{}
	p.folded = map[string]*field{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return false
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" && opts != "omitempty" {
			return false
		}
		if name == "" {
			name = sf.Name
		}
		if !plainName(name) || p.fields[name] != nil {
			return false
		}
		var head [8]byte
		copy(head[:], name)
		f := &field{name: name, head: binary.LittleEndian.Uint64(head[:]), off: sf.Offset, idx: p.nfields, plan: build(sf.Type, building)}
		p.nfields++
		p.fields[name] = f
		p.order = append(p.order, f)
		if low := strings.ToLower(name); p.folded[low] == nil {
			p.folded[low] = f
		}
		p.maxName = max(p.maxName, len(name))
	}
	size := 4
	for size < 2*len(p.order) {
		size *= 2
	}
	p.table, p.mask = make([]*field, size), uint64(size-1)
	for _, f := range p.order {
		h := hashName([]byte(f.name)) & p.mask
		for p.table[h] != nil {
			h = (h + 1) & p.mask
		}
		p.table[h] = f
	}
	return true
}

// hashName hashes a member name from its length and its first and last
// bytes (all of them up to 16).
func hashName(k []byte) uint64 {
	n := len(k)
	var a, b uint64
	switch {
	case n >= 8:
		a, b = binary.LittleEndian.Uint64(k), binary.LittleEndian.Uint64(k[n-8:])
	case n >= 4:
		a, b = uint64(binary.LittleEndian.Uint32(k)), uint64(binary.LittleEndian.Uint32(k[n-4:]))
	case n > 0:
		a, b = uint64(k[0])|uint64(k[n/2])<<8, uint64(k[n-1])
	}
	h := (a ^ bits.RotateLeft64(b, 31) ^ uint64(n)) * 0x9E3779B97F4A7C15
	return h >> 40
}

// plainName accepts ASCII letters, digits and _ only, so that case folding
// of names is ASCII folding.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// settle marks a plan unsupported when any plan it reaches is.
func settle(building map[reflect.Type]*plan) {
	for changed := true; changed; {
		changed = false
		for _, p := range building {
			if p.ok && !reaches(p) {
				p.ok, changed = false, true
			}
		}
	}
}

func reaches(p *plan) bool {
	if p.elem != nil && !p.elem.ok {
		return false
	}
	for _, f := range p.fields {
		if !f.plan.ok {
			return false
		}
	}
	return true
}

// codeTable maps the codes of an enum to their values, read off its own
// Code method and checked against its own UnmarshalJSON, so that a code
// looked up here decodes exactly as the method would decode it.
type codeTable struct {
	byCode map[string]int64
	typ    reflect.Type
}

const maxCodes = 1024

func newCodeTable(t reflect.Type) *codeTable {
	if t.Kind() != reflect.Int || t.Size() != unsafe.Sizeof(int(0)) {
		return nil
	}
	m, ok := t.MethodByName("Code")
	if !ok || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 || m.Type.Out(0).Kind() != reflect.String {
		return nil
	}
	ct := &codeTable{byCode: map[string]int64{}, typ: t}
	for i := range int64(maxCodes) {
		v := reflect.New(t).Elem()
		v.SetInt(i)
		code := v.MethodByName("Code").Call(nil)[0].String()
		if code == "<unknown>" {
			break
		}
		got := reflect.New(t)
		err := got.Interface().(json.Unmarshaler).UnmarshalJSON([]byte(`"` + code + `"`))
		if err != nil || got.Elem().Int() != i || strings.ContainsAny(code, "\"\\") {
			return nil
		}
		ct.byCode[code] = i
	}
	return ct
}
