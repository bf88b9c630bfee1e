package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// Sentinels matched by [Error] through errors.Is, by HTTP status.
var (
	ErrBadRequest         = errors.New("fhir: bad request")          // 400
	ErrUnauthorized       = errors.New("fhir: unauthorized")         // 401
	ErrForbidden          = errors.New("fhir: forbidden")            // 403
	ErrNotFound           = errors.New("fhir: not found")            // 404
	ErrConflict           = errors.New("fhir: conflict")             // 409
	ErrGone               = errors.New("fhir: resource deleted")     // 410
	ErrPreconditionFailed = errors.New("fhir: precondition failed")  // 412
	ErrUnprocessable      = errors.New("fhir: unprocessable entity") // 422
	ErrServer             = errors.New("fhir: server error")         // 5xx
)

var statusSentinel = map[int]error{
	http.StatusBadRequest:          ErrBadRequest,
	http.StatusUnauthorized:        ErrUnauthorized,
	http.StatusForbidden:           ErrForbidden,
	http.StatusNotFound:            ErrNotFound,
	http.StatusConflict:            ErrConflict,
	http.StatusGone:                ErrGone,
	http.StatusPreconditionFailed:  ErrPreconditionFailed,
	http.StatusUnprocessableEntity: ErrUnprocessable,
}

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string // fatal | error | warning | information
	Code        string // e.g. "not-found", "conflict", "invalid"
	Diagnostics string
	Expression  []string // FHIRPath of the offending element(s)
}

// Error is a failed FHIR interaction: the server answered with a status
// >= 400 (Issues holds its OperationOutcome, if any), or the request did not
// complete (Err). No part of it holds user info or search values: URL keeps
// only the query parameter names, Err is the cause without the URL that
// *url.Error and *rest.Error wrappers repeat, and search values a server or
// a Doer echoes (in diagnostics, in a transport error) are blanked out.
type Error struct {
	Conn       string // connection name
	Method     string
	URL        string
	StatusCode int // 0 when no response
	Issues     []Issue
	Err        error // transport or body error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fhir: %s: %s %s", e.Conn, e.Method, e.URL)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	for i, is := range e.Issues {
		if i == 3 {
			fmt.Fprintf(&b, " (+%d more issues)", len(e.Issues)-3)
			break
		}
		fmt.Fprintf(&b, "; %s %s", is.Severity, is.Code)
		if is.Diagnostics != "" {
			fmt.Fprintf(&b, ": %s", excerpt(is.Diagnostics, 200))
		}
		if len(is.Expression) > 0 {
			fmt.Fprintf(&b, " at %s", strings.Join(is.Expression, ", "))
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the transport or body error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the status sentinels (ErrNotFound for 404, ErrGone for 410…).
func (e *Error) Is(target error) bool {
	if target == ErrServer {
		return e.StatusCode >= 500
	}
	s, ok := statusSentinel[e.StatusCode]
	return ok && s == target
}

// outcome is the wire shape of an OperationOutcome; codes are kept as
// strings so that an unknown code never hides the error.
type outcome struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity    string   `json:"severity"`
		Code        string   `json:"code"`
		Diagnostics string   `json:"diagnostics"`
		Expression  []string `json:"expression"`
		Location    []string `json:"location"`
		Details     *struct {
			Text string `json:"text"`
		} `json:"details"`
	} `json:"issue"`
}

// newError is the *Error of a status >= 400; scrub blanks the search values
// a server may echo in its diagnostics.
func newError(conn, method, rawURL string, status int, body []byte, scrub *strings.Replacer) *Error {
	issues := parseIssues(body)
	for i := range issues {
		issues[i].Diagnostics = scrub.Replace(issues[i].Diagnostics)
	}
	return &Error{Conn: conn, Method: method, URL: redactURL(rawURL), StatusCode: status, Issues: issues}
}

// parseIssues reads the issues of an OperationOutcome body, or nil.
func parseIssues(body []byte) []Issue {
	var oo outcome
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return nil
	}
	issues := make([]Issue, 0, len(oo.Issue))
	for _, i := range oo.Issue {
		is := Issue{Severity: i.Severity, Code: i.Code, Diagnostics: i.Diagnostics, Expression: i.Expression}
		if is.Diagnostics == "" && i.Details != nil {
			is.Diagnostics = i.Details.Text
		}
		if len(is.Expression) == 0 {
			is.Expression = i.Location
		}
		issues = append(issues, is)
	}
	return issues
}

// redactURL drops user info and query values (search values may hold
// patient data or secrets); parameter names are kept.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	u.User = nil
	u.Fragment = ""
	if u.RawQuery != "" {
		q, _ := url.ParseQuery(u.RawQuery)
		names := make([]string, 0, len(q))
		for k := range q {
			names = append(names, k+"=REDACTED")
		}
		sort.Strings(names)
		u.RawQuery = strings.Join(names, "&")
	}
	return u.String()
}

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
