package fhir

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/rest"
)

// safeParams are the search parameters whose values shape a result rather
// than select data: page size, order, what to include or return. Their
// values stay in error URLs and are never blanked from a server's text;
// the values of every other parameter (identifiers, names, dates, free
// text, chained queries) may be personal data, and are.
var safeParams = map[string]bool{
	"_count": true, "_sort": true, "_include": true, "_revinclude": true, "_summary": true,
	"_elements": true, "_total": true, "_contained": true, "_containedType": true,
	"_format": true, "_pretty": true, "_type": true, "_outputFormat": true,
}

// safeParam reports whether the values of the parameter name (with any
// modifier, as in _include:iterate) may be shown.
func safeParam(name string) bool {
	name, _, _ = strings.Cut(name, ":")
	return safeParams[name]
}

// scrubber returns what blanks a call's sensitive search values (URL
// query, form body) out of text that a server or a Doer wrote:
// diagnostics echoing a value, a transport error naming the URL. A value
// is blanked only as a whole token — never where it is part of a longer
// word or number — so "4" never eats into "400"; each value is also
// blanked in its parts (a token's code, each of a list) and with its
// search prefix removed, and in its URL-encoded form.
func (k call) scrubber() func(string) string {
	var olds []string
	add := func(raw string) {
		q, _ := url.ParseQuery(raw)
		for name, vs := range q {
			if safeParam(name) {
				continue
			}
			for _, v := range vs {
				olds = append(olds, valueForms(v)...)
			}
		}
	}
	if u, err := url.Parse(k.url); err == nil {
		add(u.RawQuery)
	}
	if k.ctype == "application/x-www-form-urlencoded" {
		add(string(k.body))
	}
	// Longest first, so that a whole value is blanked before its parts.
	slices.SortFunc(olds, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	olds = slices.Compact(olds)
	return func(s string) string {
		for _, o := range olds {
			s = replaceWhole(s, o)
		}
		return s
	}
}

// valueForms are the forms of one search value a server may echo.
func valueForms(v string) []string {
	forms := []string{v, url.QueryEscape(v)}
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == ',' }) {
		part = strings.TrimSuffix(part, `\`)
		forms = append(forms, part, url.QueryEscape(part))
		if len(part) > 2 && isPrefix(part[:2]) && part[2] >= '0' && part[2] <= '9' {
			forms = append(forms, part[2:]) // ge1970-01-01 → 1970-01-01
		}
	}
	return slices.DeleteFunc(forms, func(f string) bool { return f == "" })
}

func isPrefix(p string) bool {
	switch Prefix(p) {
	case Eq, Ne, Gt, Lt, Ge, Le, Sa, Eb, Ap:
		return true
	}
	return false
}

// replaceWhole replaces each occurrence of old in s that is a whole token:
// not preceded or followed by a letter or digit (where old itself begins
// or ends with one).
func replaceWhole(s, old string) string {
	var b strings.Builder
	from := 0
	for i := 0; ; {
		j := strings.Index(s[i:], old)
		if j < 0 {
			break
		}
		j += i
		end := j + len(old)
		if wordEdge(s, j, old, true) && wordEdge(s, end, old, false) {
			b.WriteString(s[from:j])
			b.WriteString(redact.Mark)
			from = end
		}
		i = j + 1
	}
	if from == 0 {
		return s
	}
	b.WriteString(s[from:])
	return b.String()
}

// wordEdge reports whether position i of s (the start or the end of a
// match of old) is a token boundary.
func wordEdge(s string, i int, old string, start bool) bool {
	if start {
		first, _ := utf8.DecodeRuneInString(old)
		prev, _ := utf8.DecodeLastRuneInString(s[:i])
		return i == 0 || !isWord(first) || !isWord(prev)
	}
	last, _ := utf8.DecodeLastRuneInString(old)
	next, _ := utf8.DecodeRuneInString(s[i:])
	return i == len(s) || !isWord(last) || !isWord(next)
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// failed is the *Error of a call that got no response. Its Err is the
// connection's *rest.Error (or one made for a plain Doer's failure, so that
// errors.Is(err, rest.ErrTransport) holds either way), with the URL's search
// values dropped and the cause's text scrubbed of them (the cause stays
// reachable with errors.Is and errors.As).
func (c *Conn) failed(k call, err error) *Error {
	scrub := k.scrubber()
	re := rest.Error{Conn: c.name, Method: k.method, Err: err}
	if e := (*rest.Error)(nil); errors.As(err, &e) {
		re = *e
	}
	re.URL = redactURL(k.url)
	re.Excerpt = scrub(re.Excerpt)
	cause := redact.URLCause(re.Err)
	if cause != nil {
		if msg := scrub(cause.Error()); msg != cause.Error() {
			cause = &scrubbedError{msg: msg, err: cause}
		}
	}
	re.Err = cause
	return &Error{Conn: c.name, Method: k.method, URL: re.URL, Err: &re}
}

// statusError is the *Error of a status >= 400 whose body is body. A
// connection that checks its own responses (a *rest.Conn) makes the
// *rest.Error inside, scrubbed of its secrets; for any other Doer it is
// made here, scrubbed of the credential the request carried.
func (c *Conn) statusError(k call, resp *http.Response, body []byte) *Error {
	scrub := k.scrubber()
	sent := redact.Sent(resp.Request)
	clean := func(s string) string { return redact.Values(scrub(s), sent...) }
	if r, ok := c.doer.(interface {
		Redact(string, ...string) string
	}); ok {
		clean = func(s string) string { return r.Redact(scrub(s), sent...) } // its API keys, passwords too
	}
	var re *rest.Error
	if ch, ok := c.doer.(interface{ Check(*http.Response) error }); ok {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		errors.As(ch.Check(resp), &re)
	}
	if re == nil {
		text := strings.Join(strings.Fields(excerpt(string(body), rest.MaxExcerpt)), " ")
		re = &rest.Error{Conn: c.name, StatusCode: resp.StatusCode, Attempts: 1, Excerpt: text}
	}
	cp := *re
	cp.Method, cp.URL, cp.Excerpt = k.method, redactURL(k.url), clean(cp.Excerpt)
	return newError(c.name, &cp, body, clean)
}

// scrubbedError is an error whose text had search values blanked out.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
