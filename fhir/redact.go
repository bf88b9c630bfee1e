package fhir

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/rest"
)

const redacted = "REDACTED"

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
			pairs = append(pairs, o, redacted)
		}
	}
	return strings.NewReplacer(pairs...)
}

// doerCause returns what a failed Do reports without the request URL: the
// *rest.Error and *url.Error wrappers repeat it with its query values, so
// only their cause is kept, and any search value left in the cause's text
// is blanked out (the cause stays reachable with errors.Is and errors.As).
func doerCause(err error, scrub *strings.Replacer) error {
	attempts := 0
	var re *rest.Error
	if errors.As(err, &re) {
		if re.Err == nil {
			return fmt.Errorf("rest: %d %s", re.StatusCode, http.StatusText(re.StatusCode))
		}
		err, attempts = re.Err, re.Attempts
	}
	var ue *url.Error
	for errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	if msg := scrub.Replace(err.Error()); msg != err.Error() {
		err = &scrubbedError{msg: msg, err: err}
	}
	if attempts > 1 {
		err = fmt.Errorf("%w (after %d attempts)", err, attempts)
	}
	return err
}

// scrubbedError is an error whose text had search values blanked out.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
