package fhirjson

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

// The scanner: strict JSON syntax (RFC 8259, as encoding/json accepts it)
// over a byte slice. Every function returns the index after what it
// scanned, or -1 when the input is not valid JSON there.

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(d []byte, i int) int {
	for i < len(d) && d[i] <= ' ' && isSpace(d[i]) { // one comparison for what is not space
		i++
	}
	return i
}

// scanString scans the string starting at d[i] == '"'. esc reports a
// backslash; high a byte >= 0x80.
func scanString(d []byte, i int) (end int, esc, high bool) {
	j := i + 1
	for {
		// Eight bytes at a time: the lowest flagged byte of special8 is
		// the first quote, backslash, control or high byte.
		for j+8 <= len(d) {
			if m := special8(binary.LittleEndian.Uint64(d[j:])); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto found
			}
			j += 8
		}
		for j < len(d) && plainByte[d[j]] {
			j++
		}
		if j >= len(d) {
			return -1, esc, high
		}
	found:
		c := d[j]
		switch {
		case c == '"':
			return j + 1, esc, high
		case c == '\\':
			esc = true
			if j = escape(d, j); j < 0 {
				return -1, esc, high
			}
			continue
		case c < 0x20:
			return -1, esc, high
		}
		high = true // c >= 0x80
		j++
	}
}

// scanKey is scanString for a member name, most often a few ASCII
// letters: the first eight bytes tell.
func scanKey(d []byte, i int) (end int, esc, high bool) {
	j := i + 1
	if j+8 <= len(d) {
		if m := special8(binary.LittleEndian.Uint64(d[j:])); m != 0 {
			if j += bits.TrailingZeros64(m) >> 3; d[j] == '"' {
				return j + 1, false, false
			}
		}
	}
	return scanString(d, i)
}

// plainByte marks the bytes a string holds as they are: not a quote, a
// backslash, a control character or a byte >= 0x80.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// special8 flags (with 0x80) the quotes, backslashes, control characters
// and bytes >= 0x80 among 8 bytes; the lowest flag is exact, those above
// it may be false alarms.
func special8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return (x | ((q - ones) &^ q) | ((b - ones) &^ b) | ((x - ones*0x20) &^ x)) & highs
}

// plain8 reports whether none of 8 bytes is a quote, a backslash, a
// control character or a byte >= 0x80.
func plain8(x uint64) bool { return special8(x) == 0 }

// escape checks the escape at d[j] == '\\' and returns the index after it.
func escape(d []byte, j int) int {
	j++
	if j >= len(d) {
		return -1
	}
	switch d[j] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return j + 1
	case 'u':
		if j+4 >= len(d) || !isHex(d[j+1]) || !isHex(d[j+2]) || !isHex(d[j+3]) || !isHex(d[j+4]) {
			return -1
		}
		return j + 5
	}
	return -1
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber scans a number; plain reports an integer without fraction or
// exponent.
func scanNumber(d []byte, i int) (end int, plain bool) {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return -1, false
	}
	plain = true
	if i < len(d) && d[i] == '.' {
		plain = false
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return -1, false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		plain = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return -1, false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	return i, plain
}

func scanLiteral(d []byte, i int, lit string) int {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// maxDepth is encoding/json's nesting limit; deeper input falls back to it.
const maxDepth = 10000

// skipValue scans one value of any kind, validating it, without
// recursion; depth is the nesting it starts at. count, when not nil, is
// told the length of every array.
func skipValue(d []byte, i, depth int, count func(n int) bool) int {
	if i < len(d) && d[i] == '"' { // most skipped values are strings
		end, _, _ := scanString(d, i)
		return end
	}
	if count == nil && depth+fastLevels < maxDepth {
		if end, ok := skipFast(d, i); ok {
			return end
		}
	}
	return skipCounted(d, i, depth, count)
}

// fastLevels is the nesting skipFast follows; deeper input goes to
// skipCounted.
const fastLevels = 64 * 32

// skipFast is skipValue for the common case: no array bound, at most
// fastLevels of nesting (else ok is false). The kinds of the open
// containers are a bit stack, 1 for an object; key tells that a member
// name comes next. Strings are scanned here, not in a call: they are
// most of what is skipped.
func skipFast(d []byte, i int) (end int, ok bool) {
	var stack [fastLevels / 64]uint64
	n := 0 // open containers
	key := false
	for {
		i = skipSpace(d, i)
		if i >= len(d) {
			return -1, true
		}
		c := d[i]
		switch {
		case c == '"':
			j := i + 1
			for {
				for j+8 <= len(d) {
					if m := quote8(binary.LittleEndian.Uint64(d[j:])); m != 0 {
						j += bits.TrailingZeros64(m) >> 3
						goto special
					}
					j += 8
				}
				for j < len(d) && d[j] != '"' && d[j] != '\\' && d[j] >= 0x20 {
					j++
				}
				if j >= len(d) {
					return -1, true
				}
			special:
				if d[j] == '"' {
					break
				}
				if d[j] != '\\' {
					return -1, true // a control character
				}
				if j = escape(d, j); j < 0 {
					return -1, true
				}
			}
			i = j + 1
			if key {
				i = skipSpace(d, i)
				if i >= len(d) || d[i] != ':' {
					return -1, true
				}
				i, key = i+1, false
				continue
			}
		case key:
			return -1, true
		case c == '{' || c == '[':
			if n == fastLevels {
				return 0, false
			}
			i = skipSpace(d, i+1)
			if i < len(d) && d[i] == c+2 { // {} or []
				i++
				break
			}
			if c == '[' {
				stack[n>>6] &^= 1 << (n & 63)
			} else {
				stack[n>>6] |= 1 << (n & 63)
				key = true
			}
			n++
			continue
		case c == 't':
			i = scanLiteral(d, i, "true")
		case c == 'f':
			i = scanLiteral(d, i, "false")
		case c == 'n':
			i = scanLiteral(d, i, "null")
		default:
			i, _ = scanNumber(d, i)
		}
		if i < 0 {
			return -1, true
		}
		// after a value: close containers, or a comma and the next one
		for {
			if n == 0 {
				return i, true
			}
			i = skipSpace(d, i)
			if i >= len(d) {
				return -1, true
			}
			obj := stack[(n-1)>>6]&(1<<((n-1)&63)) != 0
			c := d[i]
			if c == ',' {
				i, key = i+1, obj
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				n--
				i++
				continue
			}
			return -1, true
		}
	}
}

// quote8 flags (with 0x80) the quotes, backslashes and control characters
// among 8 bytes; the lowest flag is exact.
func quote8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return (((q - ones) &^ q) | ((b - ones) &^ b) | ((x - ones*0x20) &^ x)) & highs
}

// skipCounted is skipValue with array bounds and any nesting.
func skipCounted(d []byte, i, depth int, count func(n int) bool) int {
	var stackBuf [64]byte // '{' or '['
	var lensBuf [64]int
	stack, lens := stackBuf[:0], lensBuf[:0]
	for {
		i = skipSpace(d, i)
		if i >= len(d) {
			return -1
		}
		switch c := d[i]; {
		case c == '{' || c == '[':
			if depth+len(stack) >= maxDepth {
				return -1
			}
			stack, lens = append(stack, c), append(lens, 0)
			i = skipSpace(d, i+1)
			if i < len(d) && (d[i] == '}' && c == '{' || d[i] == ']' && c == '[') {
				stack, lens = stack[:len(stack)-1], lens[:len(lens)-1]
				if c == '[' && count != nil && !count(0) {
					return -1
				}
				i++
				goto after
			}
			if c == '{' {
				if i = objectKey(d, i); i < 0 {
					return -1
				}
			}
			continue
		case c == '"':
			if i, _, _ = scanString(d, i); i < 0 {
				return -1
			}
		case c == '-' || isDigit(c):
			if i, _ = scanNumber(d, i); i < 0 {
				return -1
			}
		case c == 't':
			i = scanLiteral(d, i, "true")
		case c == 'f':
			i = scanLiteral(d, i, "false")
		case c == 'n':
			i = scanLiteral(d, i, "null")
		default:
			return -1
		}
		if i < 0 {
			return -1
		}
	after:
		for {
			if len(stack) == 0 {
				return i
			}
			top := len(stack) - 1
			lens[top]++
			i = skipSpace(d, i)
			if i >= len(d) {
				return -1
			}
			switch {
			case d[i] == ',':
				i = skipSpace(d, i+1)
				if stack[top] == '{' {
					if i = objectKey(d, i); i < 0 {
						return -1
					}
				}
			case d[i] == '}' && stack[top] == '{', d[i] == ']' && stack[top] == '[':
				if stack[top] == '[' && count != nil && !count(lens[top]) {
					return -1
				}
				stack, lens = stack[:top], lens[:top]
				i++
				continue
			default:
				return -1
			}
			break
		}
	}
}

// objectKey scans `"key" :` at i and returns the index after the colon.
func objectKey(d []byte, i int) int {
	if i >= len(d) || d[i] != '"' {
		return -1
	}
	if i, _, _ = scanString(d, i); i < 0 {
		return -1
	}
	i = skipSpace(d, i)
	if i >= len(d) || d[i] != ':' {
		return -1
	}
	return i + 1
}

// FirstString returns the value of key when it is the first member of the
// JSON object data, as a resource's "resourceType" is written: a read of
// a few bytes, not a scan. ok is false when it is not the first member,
// or its value is no string without escapes. A later member of the same
// name would win with encoding/json: a caller that must agree with it
// checks what it decodes (or uses [TopString]).
func FirstString(data []byte, key string) (v string, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return "", false
	}
	end, esc, _ := scanString(data, i)
	if end < 0 || esc || string(data[i+1:end-1]) != key {
		return "", false
	}
	i = skipSpace(data, end)
	if i >= len(data) || data[i] != ':' {
		return "", false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return "", false
	}
	end, esc, _ = scanString(data, i)
	if end < 0 || esc {
		return "", false
	}
	return plainString(data[i:end])
}

// TopString returns the value of the top-level member key of a JSON
// object, scanning past the other members' values without decoding them.
// ok is false when data is not an object, has no such member, or holds a
// form encoding/json might read differently (an escape in a key or in
// the value, a key equal to key but for case); like encoding/json, the
// last of repeated members wins.
func TopString(data []byte, key string) (v string, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return "", false
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return "", false
		}
		end, esc, high := scanString(data, i)
		if end < 0 || esc {
			return "", false
		}
		k := data[i+1 : end-1]
		if high && strings.EqualFold(string(k), key) {
			return "", false // Unicode case folding: let encoding/json match
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return "", false
		}
		i = skipSpace(data, i+1)
		vend := skipValue(data, i, 1, nil)
		if vend < 0 {
			return "", false
		}
		if len(k) == len(key) && strings.EqualFold(string(k), key) {
			if string(k) != key {
				return "", false
			}
			if v, ok = plainString(data[i:vend]); !ok {
				return "", false
			}
		}
		i = skipSpace(data, vend)
		if i < len(data) && data[i] == '}' {
			return v, ok
		}
		if i >= len(data) || data[i] != ',' {
			return "", false
		}
		i = skipSpace(data, i+1)
	}
}
