package fhir

import "bytes"

// peekType returns the top-level "resourceType" of a JSON object without
// decoding it: a scan that skips the other members' values. ok is false
// when the input is not an object or has no such member, and whenever
// encoding/json could read it differently (an escaped key or value, a key
// equal to "resourceType" but for case), so that the caller falls back to
// encoding/json. Like encoding/json, the last of duplicate members wins.
// Malformed JSON after a resourceType member yields that member (decoding
// the data fails anyway, and the error can then name the type).
func peekType(data []byte) (rt string, ok bool) {
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
			return rt, ok
		}
		end := skipString(data, i)
		key := data[i+1 : max(i+1, end-1)]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return rt, ok
		}
		i = skipSpace(data, i+1)
		if bytes.EqualFold(key, resourceTypeKey) || bytes.IndexByte(key, '\\') >= 0 {
			v, vok := peekString(data, i)
			if !vok || !bytes.Equal(key, resourceTypeKey) {
				return "", false
			}
			rt, ok = v, true
		}
		i = skipSpace(data, skipValue(data, i))
		if i < len(data) && data[i] == '}' {
			return rt, ok
		}
		if i >= len(data) || data[i] != ',' {
			return rt, ok
		}
		i = skipSpace(data, i+1)
	}
}

var resourceTypeKey = []byte("resourceType")

// peekString returns the string starting at data[i], unless it is not a
// string or holds an escape.
func peekString(data []byte, i int) (string, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", false
	}
	end := skipString(data, i)
	if end > len(data) || data[end-1] != '"' || end-1 == i {
		return "", false
	}
	v := data[i+1 : end-1]
	if bytes.IndexByte(v, '\\') >= 0 {
		return "", false // escaped: let encoding/json decide
	}
	return string(v), true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at data[i] == '"'.
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data)
}

// skipValue returns the index after the value starting at i.
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			i = skipString(data, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth <= 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}
