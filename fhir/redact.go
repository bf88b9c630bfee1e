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

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/rest"
)

// scrubber blanks a call's search values (URL query, form body) out of text
// that a server or a Doer wrote: diagnostics echoing a search value, a
// transport error naming the URL. Search values may be patient data.
func (k call) scrubber() *strings.Replacer {
	var olds []string
	add := func(raw string) {
		if raw == "" {
			return
		}
		olds = append(olds, raw)
		q, _ := url.ParseQuery(raw)
		for _, vs := range q {
			for _, v := range vs {
				olds = append(olds, v, url.QueryEscape(v))
				for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == ',' }) {
					if len(part) >= 3 {
						olds = append(olds, part, url.QueryEscape(part))
					}
				}
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
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		if o != "" {
			pairs = append(pairs, o, redact.Mark)
		}
	}
	return strings.NewReplacer(pairs...)
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
	re.Excerpt = scrub.Replace(re.Excerpt)
	cause := redact.URLCause(re.Err)
	if cause != nil {
		if msg := scrub.Replace(cause.Error()); msg != cause.Error() {
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
	clean := func(s string) string { return redact.Values(scrub.Replace(s), sent...) }
	if r, ok := c.doer.(interface {
		Redact(string, ...string) string
	}); ok {
		clean = func(s string) string { return r.Redact(scrub.Replace(s), sent...) } // its API keys, passwords too
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
