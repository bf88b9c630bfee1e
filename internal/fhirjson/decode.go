// Package fhirjson decodes JSON into the FHIR models of
// github.com/samply/golang-fhir-models several times faster than
// encoding/json, with exactly its results.
//
// The models are plain structs of strings, booleans, ints, json.Number,
// json.RawMessage, pointers, slices and code enums with their own
// UnmarshalJSON. For those the fast path compiles a plan per type (field
// offsets and a name table), validates and decodes in one pass, reads
// codes from a table built from each enum's own Code and UnmarshalJSON
// methods, and takes strings without escapes straight from one private
// copy of the input rather than allocating each. Whatever it is not sure
// to decode exactly as encoding/json would — a syntax error, a duplicate
// or case-folded member name, a type mismatch, an unknown code, a string
// that needs unescaping into invalid UTF-8 — makes it start again with
// encoding/json, which then gives its own result and its own error. A
// differential test and a fuzz target compare both.
package fhirjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"unsafe"
)

var (
	// ErrTooLong is returned when an array is longer than Options.MaxArray.
	ErrTooLong = errors.New("array too long")
	// ErrTooLarge is returned when decoding would allocate more than
	// Options.MaxAlloc.
	ErrTooLarge = errors.New("decoded value too large for its input")
)

// Options adjust a decode. The zero value decodes as encoding/json does.
type Options struct {
	// MaxArray, when > 0, bounds the length of every array in the input;
	// a longer one fails with ErrTooLong before anything is allocated
	// for it.
	MaxArray int
	// UnknownCode, when set, makes a code outside its enum's value set
	// not an error: a pointer field is left nil, a required one gets -1
	// (whose Code is "<unknown>"), and UnknownCode is told the member's
	// path and the code. Inputs that the fast path hands to encoding/json
	// still fail on such a code.
	UnknownCode func(path, code string)
	// MaxAlloc, when > 0, bounds the bytes the decoded value may take
	// (structs, slices; strings point into the input): a few bytes of
	// JSON such as {} can become hundreds of bytes of model. An input
	// over it fails with ErrTooLarge, on the encoding/json path too (a
	// measuring pass runs first there).
	MaxAlloc int64
	// Owned hands data over to the decode: it is not copied, the decoded
	// strings and raw values point into it, and the caller must never
	// change it afterwards.
	Owned bool
}

// Unmarshal decodes data into v, a non-nil pointer, as json.Unmarshal
// decodes into a zero value: v is zeroed first (encoding/json would merge
// into what it holds).
func Unmarshal(data []byte, v any) error { return UnmarshalOptions(data, v, Options{}) }

// errFallback means: decode this input with encoding/json instead.
var errFallback = errors.New("fhirjson: fall back")

// UnmarshalOptions is [Unmarshal] with options.
func UnmarshalOptions(data []byte, v any, o Options) error {
	_, _, err := UnmarshalResource(data, v, o)
	return err
}

// UnmarshalResource is [UnmarshalOptions] that also returns the value of
// the top-level "resourceType" member as the fast path saw it (the last
// one, if repeated); ok is false when it could not tell (no such member,
// an escaped one, or the input went to encoding/json).
func UnmarshalResource(data []byte, v any, o Options) (rt string, ok bool, err error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return "", false, json.Unmarshal(data, v)
	}
	p := planFor(rv.Type().Elem())
	rv.Elem().SetZero()
	if p.ok {
		d := &decoder{data: data, opts: o}
		err := d.top(p, rv.UnsafePointer())
		if err == nil {
			d.report()
		}
		if err == nil || errors.Is(err, ErrTooLong) || errors.Is(err, ErrTooLarge) {
			return d.rt, d.rtOK && err == nil, err
		}
		rv.Elem().SetZero()
		if o.MaxAlloc > 0 {
			// A tolerant pass measures what encoding/json would allocate.
			m := &decoder{data: data, opts: Options{MaxArray: o.MaxArray, MaxAlloc: o.MaxAlloc, Owned: true}, measure: true}
			if err := m.top(p, reflect.New(p.typ).UnsafePointer()); errors.Is(err, ErrTooLarge) || errors.Is(err, ErrTooLong) {
				return "", false, err
			}
		}
	} else if o.MaxAlloc > 0 {
		return "", false, ErrTooLarge // cannot be measured
	}
	if tooLong(data, o.MaxArray) {
		return "", false, ErrTooLong
	}
	return "", false, json.Unmarshal(data, v)
}

// report tells Options.UnknownCode the codes a successful decode went past.
func (d *decoder) report() {
	for _, u := range d.pending {
		d.opts.UnknownCode(u.path, u.code)
	}
}

// decoder is one decode's state.
type decoder struct {
	data    []byte // a private copy (or Owned): strings and raw values point into it
	opts    Options
	path    []frame
	pending []unknownCode // reported once the decode succeeded
	spent   int64         // bytes allocated, against Options.MaxAlloc
	measure bool          // only measure: go on past what would fall back
	rt      string        // the top-level resourceType, when rtOK
	name    string        // the name of the type decoded into
	rtOK    bool
	strs    []string // slabs for *string, *bool, *int fields
	bools   []bool
	ints    []int
	depth   int
}

type unknownCode struct{ path, code string }

type frame struct {
	name string
	idx  int // -1 for a member
}

func (d *decoder) top(p *plan, ptr unsafe.Pointer) error {
	d.name = p.typ.Name()
	if !d.opts.Owned {
		d.data = append([]byte(nil), d.data...)
	}
	i := skipSpace(d.data, 0)
	i, err := d.value(p, ptr, i)
	if err != nil {
		return err
	}
	if skipSpace(d.data, i) != len(d.data) {
		return errFallback
	}
	return nil
}

// value decodes the value at i into ptr (of plan p).
func (d *decoder) value(p *plan, ptr unsafe.Pointer, i int) (int, error) {
	if i >= len(d.data) {
		return 0, errFallback
	}
	c := d.data[i]
	if c == 'n' {
		return d.null(p, ptr, i)
	}
	switch p.kind {
	case kString, kNumber:
		return d.stringValue(p, ptr, i)
	case kBool:
		return d.boolValue(ptr, i)
	case kInt:
		return d.intValue(ptr, i)
	case kRaw:
		end := skipValue(d.data, i, d.depth, d.counter())
		if end < 0 {
			return 0, d.tooLongOr()
		}
		*(*[]byte)(ptr) = d.data[i:end:end]
		return end, nil
	case kCode:
		end, known, err := d.codeValue(p, ptr, i)
		if err == nil && !known {
			*(*int)(ptr) = -1 // required, and outside the value set
		}
		return end, err
	case kStruct:
		return d.object(p, ptr, i)
	case kPtr:
		return d.pointer(p, ptr, i)
	case kSlice:
		return d.array(p, ptr, i)
	}
	return 0, errFallback
}

// null stores a null as encoding/json does where that is simple: a nil
// pointer or slice, or the bytes "null" for a json.RawMessage.
func (d *decoder) null(p *plan, ptr unsafe.Pointer, i int) (int, error) {
	end := scanLiteral(d.data, i, "null")
	if end < 0 {
		return 0, errFallback
	}
	switch p.kind {
	case kPtr:
		*(*unsafe.Pointer)(ptr) = nil
	case kSlice:
		*(*[]byte)(ptr) = nil // the header of any slice type
	case kRaw:
		*(*[]byte)(ptr) = d.data[i:end:end]
	case kCode:
		return 0, errFallback // the model's UnmarshalJSON is called with null
	default:
		// a string, number, boolean or struct: encoding/json leaves it be
		// (FHIR writes nulls into primitive arrays whose items have
		// extensions)
	}
	return end, nil
}

func (d *decoder) counter() func(int) bool {
	if d.opts.MaxArray <= 0 {
		return nil
	}
	return func(n int) bool { return n <= d.opts.MaxArray }
}

// tooLongOr tells a syntax error (fall back) from an array over the bound.
func (d *decoder) tooLongOr() error {
	if tooLong(d.data, d.opts.MaxArray) {
		return ErrTooLong
	}
	return errFallback
}

// tooLong reports whether data is valid JSON with an array longer than max.
func tooLong(data []byte, max int) bool {
	if max <= 0 {
		return false
	}
	i := skipSpace(data, 0)
	return skipValue(data, i, 0, func(n int) bool { return n <= max }) < 0 && skipValue(data, i, 0, nil) >= 0
}
