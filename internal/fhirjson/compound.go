package fhirjson

import (
	"math/bits"
	"reflect"
	"unsafe"
)

// arrayOf is the type [n]elem of a slice plan, for n a power of two;
// the small ones are kept on the plan.
func (p *plan) arrayOf(n int) reflect.Type {
	k := bits.TrailingZeros(uint(n))
	if k >= len(p.arrays) {
		return reflect.ArrayOf(n, p.elem.typ)
	}
	if t, ok := p.arrays[k].Load().(reflect.Type); ok {
		return t
	}
	t := reflect.ArrayOf(n, p.elem.typ)
	p.arrays[k].Store(t)
	return t
}

// object decodes a JSON object into the struct at ptr.
func (d *decoder) object(p *plan, ptr unsafe.Pointer, i int) (int, error) {
	if d.data[i] != '{' || d.depth >= maxDepth {
		return 0, errFallback
	}
	d.depth++
	defer func() { d.depth-- }()
	var seen [maxFields / 64]uint64
	next := 0 // members usually come in declaration order: try that first
	i = skipSpace(d.data, i+1)
	if i < len(d.data) && d.data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(d.data) || d.data[i] != '"' {
			return 0, errFallback
		}
		end, esc, high := scanKey(d.data, i)
		if end < 0 || esc && !d.measure {
			return 0, errFallback
		}
		key := d.data[i+1 : end-1]
		if esc {
			key = []byte(unquote(key))
		}
		i = skipSpace(d.data, end)
		if i >= len(d.data) || d.data[i] != ':' {
			return 0, errFallback
		}
		i = skipSpace(d.data, i+1)
		start := i
		var err error
		f := p.lookup(key, next)
		if f != nil {
			next = f.idx + 1
			if seen[f.idx/64]&(1<<(f.idx%64)) != 0 && !d.measure {
				return 0, errFallback // a duplicate: encoding/json merges
			}
			seen[f.idx/64] |= 1 << (f.idx % 64)
			i, err = d.member(f, ptr, i)
		} else if string(key) == "resourceType" { // not a field of the models
			if i, err = d.resourceType(i); err != nil {
				return 0, err
			}
		} else {
			i, err = d.unknown(p, ptr, key, high, i)
		}
		if err == errFallback && d.measure { // what encoding/json does instead costs no more
			i, err = d.skip(start)
		}
		if err != nil {
			return 0, err
		}
		i = skipSpace(d.data, i)
		if i >= len(d.data) {
			return 0, errFallback
		}
		switch d.data[i] {
		case ',':
			i = skipSpace(d.data, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, errFallback
		}
	}
}

// resourceType skips the value of a "resourceType" member, keeping the
// top-level one for [UnmarshalResource].
func (d *decoder) resourceType(i int) (int, error) {
	end := skipValue(d.data, i, d.depth, nil)
	if end < 0 {
		return 0, errFallback
	}
	if d.depth == 1 {
		d.rt, d.rtOK = "", false
		if tok := d.data[i:end]; len(tok) == len(d.name)+2 && tok[0] == '"' && string(tok[1:len(tok)-1]) == d.name {
			d.rt, d.rtOK = d.name, true // the type decoded into: no copy
		} else if s, ok := plainString(tok); ok {
			d.rt, d.rtOK = s, true
		}
	}
	return end, nil
}

// plainString is the text of a string token without escapes.
func plainString(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", false
	}
	for _, c := range tok[1 : len(tok)-1] {
		if c == '\\' || c >= 0x80 {
			return "", false
		}
	}
	return string(tok[1 : len(tok)-1]), true
}

func (d *decoder) member(f *field, ptr unsafe.Pointer, i int) (int, error) {
	if d.opts.UnknownCode == nil {
		return d.value(f.plan, unsafe.Add(ptr, f.off), i)
	}
	d.path = append(d.path, frame{name: f.name, idx: -1})
	end, err := d.value(f.plan, unsafe.Add(ptr, f.off), i)
	d.path = d.path[:len(d.path)-1]
	return end, err
}

// unknown skips the value of a member the struct does not have, unless
// encoding/json would match its name to a field without regard to case.
func (d *decoder) unknown(p *plan, ptr unsafe.Pointer, key []byte, high bool, i int) (int, error) {
	if high && !d.measure {
		return 0, errFallback // Unicode case folding: let encoding/json match
	}
	if len(key) <= p.maxName {
		var low [64]byte
		if len(key) > len(low) {
			return 0, errFallback
		}
		for j, c := range key {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			low[j] = c
		}
		if f := p.folded[string(low[:len(key)])]; f != nil {
			if d.measure {
				return d.member(f, ptr, i)
			}
			return 0, errFallback
		}
	}
	end := skipValue(d.data, i, d.depth, d.counter())
	if end < 0 {
		return 0, d.tooLongOr()
	}
	return end, nil
}

// pointer allocates the pointee (from a slab for the small kinds) and
// decodes into it.
func (d *decoder) pointer(p *plan, ptr unsafe.Pointer, i int) (int, error) {
	e := p.elem
	if e.kind == kCode {
		var v int
		end, known, err := d.codeValue(e, unsafe.Pointer(&v), i)
		if err != nil || !known {
			return end, err
		}
		q := d.newInt()
		*q = v
		*(*unsafe.Pointer)(ptr) = unsafe.Pointer(q)
		return end, nil
	}
	var q unsafe.Pointer
	switch e.kind {
	case kString, kNumber:
		q = unsafe.Pointer(d.newString())
	case kBool:
		q = unsafe.Pointer(d.newBool())
	case kInt:
		q = unsafe.Pointer(d.newInt())
	default:
		if err := d.spend(e.typ.Size()); err != nil {
			return 0, err
		}
		q = reflect.New(e.typ).UnsafePointer()
	}
	end, err := d.value(e, q, i)
	if err != nil {
		return 0, err
	}
	*(*unsafe.Pointer)(ptr) = q
	return end, nil
}

const slab = 32

// skip skips the value at i.
func (d *decoder) skip(i int) (int, error) {
	end := skipValue(d.data, i, d.depth, d.counter())
	if end < 0 {
		return 0, d.tooLongOr()
	}
	return end, nil
}

// spend counts n bytes against the allocation budget.
func (d *decoder) spend(n uintptr) error {
	d.spent += int64(n)
	if d.opts.MaxAlloc > 0 && d.spent > d.opts.MaxAlloc {
		return ErrTooLarge
	}
	return nil
}

func (d *decoder) newString() *string {
	if len(d.strs) == cap(d.strs) {
		d.strs = make([]string, 0, slab)
	}
	d.strs = d.strs[:len(d.strs)+1]
	return &d.strs[len(d.strs)-1]
}

func (d *decoder) newBool() *bool {
	if len(d.bools) == cap(d.bools) {
		d.bools = make([]bool, 0, slab)
	}
	d.bools = d.bools[:len(d.bools)+1]
	return &d.bools[len(d.bools)-1]
}

func (d *decoder) newInt() *int {
	if len(d.ints) == cap(d.ints) {
		d.ints = make([]int, 0, slab)
	}
	d.ints = d.ints[:len(d.ints)+1]
	return &d.ints[len(d.ints)-1]
}

// sliceHeader is the layout of every slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// array decodes a JSON array into the slice at ptr, growing it by
// doubling as encoding/json does; elements are decoded in place.
func (d *decoder) array(p *plan, ptr unsafe.Pointer, i int) (int, error) {
	if d.data[i] != '[' || d.depth >= maxDepth {
		return 0, errFallback
	}
	d.depth++
	defer func() { d.depth-- }()
	h := (*sliceHeader)(ptr)
	*h = sliceHeader{data: unsafe.Pointer(&zeroBase)} // [] is an empty slice, not nil
	i = skipSpace(d.data, i+1)
	if i < len(d.data) && d.data[i] == ']' {
		return i + 1, nil
	}
	size := p.elem.typ.Size()
	var cur reflect.Value
	for k := 0; ; k++ {
		if k == d.opts.MaxArray && k > 0 {
			return 0, d.tooLongOr()
		}
		if k == h.cap {
			if err := d.grow(p, h, &cur); err != nil {
				return 0, err
			}
		}
		h.len = k + 1
		var err error
		if d.opts.UnknownCode != nil {
			d.path = append(d.path, frame{idx: k})
		}
		start := i
		i, err = d.value(p.elem, unsafe.Add(h.data, uintptr(k)*size), i)
		if d.opts.UnknownCode != nil {
			d.path = d.path[:len(d.path)-1]
		}
		if err == errFallback && d.measure { // encoding/json goes on with the next element
			i, err = d.skip(start)
		}
		if err != nil {
			return 0, err
		}
		i = skipSpace(d.data, i)
		if i >= len(d.data) {
			return 0, errFallback
		}
		switch d.data[i] {
		case ',':
			i = skipSpace(d.data, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, errFallback
		}
	}
}

var zeroBase byte

// lookup finds the field named key: the one declared after the previous
// member first (FHIR JSON follows the declaration order), then by hash.
func (p *plan) lookup(key []byte, next int) *field {
	if next < len(p.order) && p.order[next].is(key) {
		return p.order[next]
	}
	for h := hashName(key) & p.mask; ; h = (h + 1) & p.mask {
		f := p.table[h]
		if f == nil || f.is(key) {
			return f
		}
	}
}

// grow doubles the capacity of the slice h (of plan p), moving what it
// holds; cur is its backing array so far (a *elem or a *[n]elem), through
// which the move is a typed copy without looking types up.
func (d *decoder) grow(p *plan, h *sliceHeader, cur *reflect.Value) error {
	n := max(2*h.cap, 1)
	if err := d.spend(uintptr(n) * p.elem.typ.Size()); err != nil {
		return err
	}
	var next reflect.Value
	if n == 1 {
		next = reflect.New(p.elem.typ) // most arrays hold one element; *elem is a type the binary has
	} else {
		next = reflect.New(p.arrayOf(n))
	}
	switch {
	case h.len == 1:
		next.Elem().Index(0).Set(cur.Elem())
	case h.len > 1:
		reflect.Copy(next.Elem(), cur.Elem())
	}
	*cur = next
	h.data, h.cap = next.UnsafePointer(), n
	return nil
}
