package fhirjson

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

func (d *decoder) stringValue(p *plan, ptr unsafe.Pointer, i int) (int, error) {
	c := d.data[i]
	if p.kind == kNumber {
		end, _ := scanNumber(d.data, i)
		if end < 0 || c == '"' {
			return 0, errFallback
		}
		*(*string)(ptr) = unsafe.String(&d.data[i], end-i)
		return end, nil
	}
	if c != '"' {
		return 0, errFallback
	}
	end, esc, high := scanString(d.data, i)
	if end < 0 {
		return 0, errFallback
	}
	body := d.data[i+1 : end-1]
	switch {
	case len(body) == 0:
		*(*string)(ptr) = ""
	case !esc && (!high || utf8.Valid(body)):
		*(*string)(ptr) = unsafe.String(&body[0], len(body))
	default:
		*(*string)(ptr) = unquote(body)
	}
	return end, nil
}

// unquote decodes a string body as encoding/json does: escapes, UTF-16
// surrogate pairs, and U+FFFD for invalid UTF-8 and lone surrogates. The
// scanner has checked the escapes.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for r := 0; r < len(s); {
		start := r
		for r+8 <= len(s) {
			m := special8(binary.LittleEndian.Uint64(s[r:]))
			if m != 0 {
				r += bits.TrailingZeros64(m) >> 3
				break
			}
			r += 8
		}
		for r < len(s) && s[r] != '\\' && s[r] < utf8.RuneSelf {
			r++
		}
		b = append(b, s[start:r]...)
		if r >= len(s) {
			break
		}
		if s[r] == '\\' {
			switch c := s[r+1]; c {
			case '"', '\\', '/': // most escapes in narratives
				b, r = append(b, c), r+2
			case 'n':
				b, r = append(b, '\n'), r+2
			default:
				var n int
				b, n = unescape(b, s[r:])
				r += n
			}
			continue
		}
		rr, size := utf8.DecodeRune(s[r:])
		if rr == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[r:r+size]...)
		}
		r += size
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// unescape appends the escape at s[0] == '\\' and returns its length.
func unescape(b, s []byte) ([]byte, int) {
	switch s[1] {
	case 'b':
		return append(b, '\b'), 2
	case 'f':
		return append(b, '\f'), 2
	case 'n':
		return append(b, '\n'), 2
	case 'r':
		return append(b, '\r'), 2
	case 't':
		return append(b, '\t'), 2
	case 'u':
		rr := getu4(s[2:])
		if utf16.IsSurrogate(rr) && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			if dec := utf16.DecodeRune(rr, getu4(s[8:])); dec != unicode.ReplacementChar {
				return utf8.AppendRune(b, dec), 12
			}
		}
		if utf16.IsSurrogate(rr) {
			rr = unicode.ReplacementChar
		}
		return utf8.AppendRune(b, rr), 6
	}
	return append(b, s[1]), 2 // " \ /
}

func getu4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

func (d *decoder) boolValue(ptr unsafe.Pointer, i int) (int, error) {
	if end := scanLiteral(d.data, i, "true"); end > 0 {
		*(*bool)(ptr) = true
		return end, nil
	}
	if end := scanLiteral(d.data, i, "false"); end > 0 {
		*(*bool)(ptr) = false
		return end, nil
	}
	return 0, errFallback
}

func (d *decoder) intValue(ptr unsafe.Pointer, i int) (int, error) {
	end, plain := scanNumber(d.data, i)
	if end < 0 || !plain {
		return 0, errFallback
	}
	lit, neg := d.data[i:end], false
	if lit[0] == '-' {
		lit, neg = lit[1:], true
	}
	if len(lit) > 18 || strconv.IntSize == 32 && len(lit) > 9 {
		return 0, errFallback // may overflow: let encoding/json decide
	}
	n := 0
	for _, c := range lit {
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	*(*int)(ptr) = n
	return end, nil
}

// codeValue decodes a code. known is false when the code is outside the
// value set and the options make that not an error (then nothing is set).
func (d *decoder) codeValue(p *plan, ptr unsafe.Pointer, i int) (end int, known bool, err error) {
	if d.data[i] != '"' {
		return 0, false, errFallback
	}
	end, esc, _ := scanString(d.data, i)
	if end < 0 {
		return 0, false, errFallback
	}
	if esc { // the model's method sees the raw bytes: let it decide
		u := reflect.NewAt(p.typ, ptr).Interface().(json.Unmarshaler)
		if u.UnmarshalJSON(d.data[i:end]) != nil {
			return 0, false, errFallback
		}
		return end, true, nil
	}
	code := d.data[i+1 : end-1]
	if v, ok := p.code.byCode[string(code)]; ok {
		*(*int)(ptr) = int(v)
		return end, true, nil
	}
	if d.opts.UnknownCode == nil {
		return 0, false, errFallback
	}
	d.pending = append(d.pending, unknownCode{d.pathString(), string(code)})
	return end, false, nil
}

func (d *decoder) pathString() string {
	var b strings.Builder
	for _, f := range d.path {
		if f.idx >= 0 {
			b.WriteString("[" + strconv.Itoa(f.idx) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.name)
	}
	return b.String()
}
