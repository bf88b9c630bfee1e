package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/rest"
)

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string // fatal | error | warning | information
	Code        string // e.g. "not-found", "conflict", "invalid"
	Diagnostics string
	// Expression is the FHIRPath of the offending element(s), such as
	// "Patient.name[0].family"; a server that sends only a location gets
	// its location here too, so Expression is the one field to read.
	Expression []string
	// Location is issue.location as the server sent it (deprecated in R4:
	// an XPath, or a line and column such as "Line[1] Col[42]").
	Location []string
}

// Error is a failed FHIR interaction: the server answered with a status
// >= 400 (Issues holds its OperationOutcome, if any), or the request did not
// complete. Either way Err is the connection's *rest.Error, so the one
// taxonomy of HTTP outcomes applies: errors.Is(err, rest.ErrNotFound),
// rest.ErrGone, rest.ErrPreconditionFailed, rest.ErrServerError,
// rest.ErrTransport… hold for FHIR calls as for REST ones. A body that
// could not be read leaves Err as that error.
//
// No part of it holds user info, search values or the credential sent: URL
// keeps only the query parameter names, and search values a server or a
// Doer echoes (in diagnostics, in an excerpt, in a transport error) are
// blanked out.
type Error struct {
	Conn       string // connection name
	Method     string
	URL        string
	StatusCode int // 0 when no response
	// Issues are the first 20 issues of the server's OperationOutcome
	// (read from the first MiB of its body); MoreIssues counts the others.
	Issues     []Issue
	MoreIssues int
	Err        error // the connection's *rest.Error, or a body error

	severeMore bool // one of the MoreIssues is an error or fatal (Validate's verdict)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fhir: %s: %s %s", e.Conn, e.Method, e.URL)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	for i, is := range e.Issues {
		if i == 3 {
			break
		}
		// each part is the server's text: on one line, and bounded
		fmt.Fprintf(&b, "; %s %s", oneLine(is.Severity, 20), oneLine(is.Code, 40))
		if is.Diagnostics != "" {
			fmt.Fprintf(&b, ": %s", oneLine(is.Diagnostics, 200))
		}
		if len(is.Expression) > 0 {
			fmt.Fprintf(&b, " at %s", oneLine(strings.Join(is.Expression[:min(len(is.Expression), 10)], ", "), 200))
		}
	}
	if more := max(len(e.Issues)-3, 0) + e.MoreIssues; more > 0 {
		fmt.Fprintf(&b, " (+%d more issues)", more)
	}
	if cause := e.cause(); cause != nil {
		fmt.Fprintf(&b, ": %v", cause)
	}
	return b.String()
}

// cause is what Error adds after the status: the body error, or the reason
// a call got no response, without the prefix of the *rest.Error around it
// (its connection, method and URL are this error's own).
func (e *Error) cause() error {
	var re *rest.Error
	if errors.As(e.Err, &re) {
		if re.Err == nil {
			return nil
		}
		if re.Attempts > 1 {
			return fmt.Errorf("%w (after %d attempts)", re.Err, re.Attempts)
		}
		return re.Err
	}
	return e.Err
}

// Unwrap returns the connection's *rest.Error, or the body error.
func (e *Error) Unwrap() error { return e.Err }

// newError is the *Error of a status >= 400 around the connection's error
// re; clean blanks what a server may echo in its diagnostics: search
// values, the credential the request carried.
func newError(conn string, re *rest.Error, body []byte, clean func(string) string) *Error {
	issues, more := parseIssues(body, maxIssues)
	for i := range issues {
		issues[i].Diagnostics = clean(issues[i].Diagnostics)
		for j, x := range issues[i].Expression { // FHIRPath may quote a value: where(value='…')
			issues[i].Expression[j] = clean(x)
		}
		for j, x := range issues[i].Location {
			issues[i].Location[j] = clean(x)
		}
	}
	// The issues not kept still count for a verdict ($validate): the rare
	// outcome of more than maxIssues is read again, whole.
	severe := more > 0 && !verdict(allIssues(body))
	return &Error{Conn: conn, Method: re.Method, URL: re.URL, StatusCode: re.StatusCode, Issues: issues, MoreIssues: more, Err: re, severeMore: severe}
}

// redactURL drops user info and the values of search parameters that may
// hold patient data or secrets; parameter names, and the values of those
// that only shape the result (_count, _sort, _include…), are kept.
func redactURL(raw string) string { return redact.URLString(raw, safeParam) }

// quoted is a string a server sent (a resource type, an id, a code) as an
// error shows it: cut to n bytes and quoted, since it may be megabytes long.
func quoted(s string, n int) string { return strconv.Quote(excerpt(s, n)) }

// maxShownURL bounds a URL a server sent (a reference, a link) in an error.
const maxShownURL = 256

// shownURL is a URL a server sent as an error shows it: redacted and cut.
func shownURL(raw string) string { return excerpt(redactURL(raw), maxShownURL) }

// excerpt cuts s to at most n bytes, on a rune boundary.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// oneLine is a server's text as it may be shown on one line, of at most n
// bytes and an ellipsis: format characters (Unicode Cf: bidi overrides,
// zero-width marks) are dropped; control characters (Cc), line and
// paragraph separators (Zl, Zp) and other white space become single
// spaces; invalid UTF-8 becomes U+FFFD. Only the first n bytes of the
// result are built, whatever the length of s.
func oneLine(s string, n int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		if b.Len() > n {
			break
		}
	}
	return excerpt(b.String(), n)
}
