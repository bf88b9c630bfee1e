package fhir

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/internal/callctx"
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
// is blanked only as a whole token ([redact.Tokens]: "4" never eats into
// "400"), without regard to case, in every form a server may echo it
// (escaped for URLs, JSON or HTML; without its FHIR search escapes), and
// also in its parts: each of a list, a token's code, a date without its
// prefix, each word of a name.
func (k call) scrubber() func(string) string {
	return scrubberOf(k.queries())
}

// queries are the raw queries of k whose values are search values: its
// URL's, its form body's, and those of its searches.
func (k call) queries() []string {
	var qs []string
	if u, err := url.Parse(k.url); err == nil {
		qs = append(qs, u.RawQuery)
	}
	if k.ctype == "application/x-www-form-urlencoded" {
		qs = append(qs, string(k.body))
	}
	if k.searches != nil {
		qs = append(qs, k.searches()...)
	}
	return qs
}

// scrubberOf blanks the values of the raw queries qs.
func scrubberOf(qs []string) func(string) string {
	var values []string
	add := func(raw string) {
		q, _ := url.ParseQuery(raw)
		for name, vs := range q {
			if safeParam(name) {
				continue
			}
			for _, v := range vs {
				values = append(values, valueForms(v)...)
			}
		}
	}
	for _, q := range qs {
		add(q)
	}
	var forms []string
	for _, v := range slices.Compact(slices.Sorted(slices.Values(values))) {
		forms = append(forms, redact.EchoForms(v)...)
	}
	return func(s string) string { return redact.Tokens(s, forms...) }
}

// unescapeFHIR undoes the search escapes of [Escape].
var unescapeFHIR = strings.NewReplacer(`\\`, `\`, `\,`, `,`, `\|`, `|`, `\$`, `$`)

// valueForms are one search value and its parts, as a server may echo them.
func valueForms(v string) []string {
	forms := []string{v, unescapeFHIR.Replace(v)}
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == ',' }) {
		part = unescapeFHIR.Replace(strings.TrimSuffix(part, `\`))
		forms = append(forms, part)
		if len(part) > 2 && isPrefix(part[:2]) && part[2] >= '0' && part[2] <= '9' {
			forms = append(forms, part[2:]) // ge1970-01-01 → 1970-01-01
		}
		if words := strings.Fields(part); len(words) > 1 {
			for _, w := range words {
				if len(w) >= 3 {
					forms = append(forms, w)
				}
			}
		}
	}
	return slices.DeleteFunc(forms, func(f string) bool { return f == "" })
}

func isPrefix(p string) bool {
	switch p {
	case "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap":
		return true
	}
	return false
}

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

// maxExcerpt bounds the body excerpt of the *rest.Error inside, as the
// connection's own errors are bounded.
const maxExcerpt = 512

// statusError is the *Error of a status >= 400 whose body is body. The
// *rest.Error inside holds an excerpt of the body scrubbed of the search
// values, of the credential the request carried and, when the Doer is a
// *rest.Conn, of that connection's own secrets (its API keys, passwords):
// the whole body is scrubbed before it is cut, so that a secret across
// the bound is never shown in part.
func (c *Conn) statusError(k call, resp *http.Response, body []byte) *Error {
	scrub := k.scrubber()
	var sent []string
	conn := func(s string, _ ...string) string { return s }
	if resp.Request != nil {
		sent = redact.Sent(resp.Request)
		if f := callctx.Scrubber(resp.Request.Context()); f != nil {
			conn = f
		}
	}
	clean := func(s string) string { return conn(redact.Values(scrub(s), sent...), sent...) }
	text := strings.Join(strings.Fields(excerpt(clean(string(body)), maxExcerpt)), " ")
	re := &rest.Error{Conn: c.name, Method: k.method, URL: redactURL(k.url), StatusCode: resp.StatusCode, Attempts: 1, Excerpt: text}
	return newError(c.name, re, body, clean)
}

// scrubbedError is an error whose text had search values blanked out.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
