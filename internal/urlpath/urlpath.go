// Package urlpath joins a request path to a connection's base URL safely:
// the one implementation behind rest's paths and the assembly's check of
// ping paths.
package urlpath

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBadPath (rest.ErrBadPath) is returned (wrapped) when a request path cannot be joined
// safely to a connection's base URL: it climbs out of the base path with
// "..", carries a query or a fragment, or holds an invalid escape.
var ErrBadPath = errors.New("rest: bad request path")

// Join returns base with path appended to its path, and rawQuery (already
// encoded) and query merged into its query. path is relative to the base
// path whatever its leading slash. Empty segments (double slashes) and
// "." segments are dropped; ".." (also percent-encoded, or hidden behind a
// backslash) is refused rather than resolved, and so is a "?" or a "#" in
// path: a path built from user input can neither reach outside the base
// nor smuggle a query or a fragment. Queries come apart, in rawQuery or
// query.
func Join(base *url.URL, path, rawQuery string, query url.Values) (*url.URL, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("%w: a query inside a path (escape the segment, or pass the query apart)", ErrBadPath)
	}
	if strings.ContainsRune(path, '#') || strings.ContainsRune(rawQuery, '#') {
		return nil, fmt.Errorf("%w: fragment not allowed", ErrBadPath)
	}
	escaped, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	return buildURL(base, escaped, rawQuery, query)
}

// Segments escapes each segment with url.PathEscape, so that "/", "?",
// "#", "\\" and "%" in it stay data, and joins them with "/". A segment
// that is empty or "." would change which resource the path names (it
// would be dropped): it is written as a mark that Join refuses, saying
// which segment is empty (or "."), and that an error shows as it is
// ("customers/[empty]"). A ".." segment is written "..", which Join
// refuses as a climb.
func Segments(segments ...string) string {
	var b strings.Builder
	for i, s := range segments {
		if i > 0 {
			b.WriteByte('/')
		}
		switch s {
		case "":
			s = markEmpty
		case ".":
			s = markDot
		default:
			s = url.PathEscape(s)
		}
		b.WriteString(s)
	}
	return b.String()
}

// The marks Segments writes for an empty and a "." segment. url.PathEscape
// escapes "[" and "]", so no escaped segment is a mark; url.Parse keeps
// them as they are (a relative URL built from Segments for Conn.Do).
const (
	markEmpty = "[empty]"
	markDot   = "[.]"
)

// buildURL appends the clean escaped path to base.
func buildURL(base *url.URL, escaped, rawQuery string, query url.Values) (*url.URL, error) {
	var err error
	u := *base
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	rawPath := strings.TrimRight(base.EscapedPath(), "/")
	if escaped != "" {
		rawPath += "/" + escaped
	} else if rawPath == "" {
		rawPath = "/"
	}
	u.Path, u.RawPath = rawPath, ""
	if strings.IndexByte(rawPath, '%') >= 0 {
		if u.Path, err = url.PathUnescape(rawPath); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadPath, err)
		}
		if u.EscapedPath() != rawPath {
			u.RawPath = rawPath
		}
	}
	u.RawQuery, err = mergeQuery(base.RawQuery, rawQuery, query)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// cleanPath returns path's non-empty segments joined by single slashes,
// still escaped, refusing "..".
func cleanPath(path string) (string, error) {
	if simplePath(path) {
		return strings.Trim(path, "/"), nil
	}
	var b strings.Builder
	b.Grow(len(path))
	n := 0 // segments seen, for the error naming one
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" || seg == "." {
			continue
		}
		switch n++; seg {
		case markEmpty:
			return "", fmt.Errorf("%w: segment %d is empty (an id or a name left empty?)", ErrBadPath, n)
		case markDot:
			return "", fmt.Errorf("%w: segment %d is \".\", which would name the path before it", ErrBadPath, n)
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("%w: invalid escape in %q", ErrBadPath, seg)
		}
		for part := range strings.FieldsFuncSeq(dec, isSep) {
			if part == ".." {
				return "", fmt.Errorf("%w: %q climbs out of the base path", ErrBadPath, seg)
			}
		}
		if dec == "." {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(escapeSegment(seg))
	}
	return b.String(), nil
}

// simplePath reports whether path needs no cleaning beyond trimming its
// outer slashes: only unreserved characters and single inner slashes, no
// dot segments, no escapes (the common "customers/42").
func simplePath(path string) bool {
	prev := byte('/')
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '~':
		case c == '/':
			if prev == '/' && i > 0 {
				return false
			}
		default:
			return false
		}
		prev = c
	}
	return true
}

func isSep(r rune) bool { return r == '/' || r == '\\' }

// escapeSegment leaves a well-formed escaped segment alone and escapes the
// characters that may not appear raw in a path (spaces, non-ASCII...).
func escapeSegment(seg string) string {
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' || c == '|' || c == '^' {
			dec, _ := url.PathUnescape(seg) // validated by the caller
			return url.PathEscape(dec)
		}
	}
	return seg
}

// mergeQuery combines the base URL's query, the path's own query and the
// caller's values. The caller's values are encoded with url.Values.Encode.
func mergeQuery(baseQ, pathQ string, extra url.Values) (string, error) {
	if pathQ != "" {
		if strings.ContainsFunc(pathQ, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return "", fmt.Errorf("%w: unescaped space or control character in query (pass values as query options)", ErrBadPath)
		}
		if _, err := url.ParseQuery(pathQ); err != nil {
			return "", fmt.Errorf("%w: invalid query: %v", ErrBadPath, err)
		}
	}
	q := joinQuery(baseQ, pathQ)
	if len(extra) > 0 {
		q = joinQuery(q, extra.Encode())
	}
	return q, nil
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

// ErrInsecure is a plain http:// base URL where https is required.
var ErrInsecure = errors.New("plain http:// is refused (https required; rest.AllowInsecureHTTP() is for tests)")

// ParseBase parses a connection's base URL: absolute http(s), no user
// info, no fragment, https unless allowHTTP. The error is the reason alone
// (callers name the connection and the field).
func ParseBase(s string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return nil, errors.New("missing")
	case err != nil:
		return nil, errors.New("not a valid URL")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "", u.Opaque != "":
		return nil, errors.New("must be an absolute http(s) URL")
	case u.User != nil:
		return nil, errors.New("must not carry credentials (use a security definition)")
	case u.Fragment != "":
		return nil, errors.New("must not have a fragment")
	case u.Scheme == "http" && !allowHTTP:
		return nil, ErrInsecure
	}
	return u, nil
}

// JoinPing returns the URL a ping setting's path names: a path with a
// leading "/" from the origin's root (many APIs have /health there, not
// under their base path), any other relative to the base path, like a
// call's. Its query, after a "?", is the setting's own; the base URL's
// query is kept in both cases. ".." and a fragment are refused as by Join.
func JoinPing(base *url.URL, path string) (*url.URL, error) {
	path, rawQuery, _ := strings.Cut(path, "?")
	if strings.HasPrefix(path, "/") {
		root := *base
		root.Path, root.RawPath = "", ""
		base = &root
	}
	return Join(base, path, rawQuery, nil)
}
