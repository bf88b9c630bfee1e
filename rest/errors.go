package rest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/internal/urlpath"
)

// maxExcerpt is the largest response-body excerpt kept in an [Error].
const maxExcerpt = 512

// Sentinels matched by [Error] with errors.Is, by status code or class:
// the one taxonomy of HTTP outcomes, also for the protocols spoken over a
// connection (their errors wrap the connection's *Error).
var (
	ErrBadRequest         = errors.New("rest: 400 bad request")
	ErrUnauthorized       = errors.New("rest: 401 unauthorized")
	ErrForbidden          = errors.New("rest: 403 forbidden")
	ErrNotFound           = errors.New("rest: 404 not found")
	ErrConflict           = errors.New("rest: 409 conflict")
	ErrGone               = errors.New("rest: 410 gone")
	ErrPreconditionFailed = errors.New("rest: 412 precondition failed")
	ErrUnprocessable      = errors.New("rest: 422 unprocessable entity")
	ErrClientError        = errors.New("rest: 4xx client error")
	ErrServerError        = errors.New("rest: 5xx server error")
	// ErrTransport matches an Error for which no response arrived
	// (connection refused, timeout, TLS failure, token fetch failure...).
	ErrTransport = errors.New("rest: no response")
	// ErrBadPath is returned (wrapped) when a request path cannot be
	// joined safely to a connection's base URL: it climbs out of the base
	// path with "..", carries a query or a fragment, or holds an invalid
	// escape; a protocol spoken over a connection wraps it for an argument
	// of its own that cannot be a path segment (an invalid id).
	// It is the caller's bad request: nothing was sent (a service answers
	// 400).
	ErrBadPath = urlpath.ErrBadPath
	// ErrBadResponse matches an Error for a 2xx response whose body
	// [GetJSON] or [SendJSON] could not use: not JSON, JSON of another
	// shape than asked for, empty, truncated, or over their 32 MiB bound.
	// The backend answered, so the call was made: it is no transport
	// failure (a POST repeated would be made twice) and matches no other
	// sentinel. The Error holds the 2xx status, the attempts and the
	// cause; no excerpt (a 2xx body is the backend's data, not its
	// diagnostics).
	ErrBadResponse = errors.New("rest: unusable response body")
)

// Error is a failed call on a connection, one of three:
//   - a response with a non-2xx status: StatusCode set, Err nil, Excerpt
//     the start of its body; it matches the status's sentinels
//     ([ErrNotFound], [ErrClientError], [ErrServerError]…);
//   - no response at all: StatusCode 0, Err the cause; it matches
//     [ErrTransport];
//   - a 2xx response whose body [GetJSON] or [SendJSON] could not use:
//     StatusCode the 2xx status, Err the cause, no Excerpt; it matches
//     [ErrBadResponse] only.
//
// Its text and fields never hold credentials nor query values: the URL has
// no user info and every query value replaced by [redacted], as in
// [ConnStats] ("customers?email=[redacted]"); the body excerpt is bounded,
// scrubbed of the connection's static secrets and of the credential the
// request carried, and each query value the server echoes is blanked as a
// whole token ("no customer with email [redacted]"), also URL-, JSON- or
// HTML-escaped. A cause's text is scrubbed the same way.
type Error struct {
	Conn       string // connection name
	Method     string
	URL        string // no user info, no query value
	StatusCode int    // 0 when no response arrived
	Excerpt    string // start of the response body, at most 512 bytes
	Attempts   int    // attempts made, including the first
	Err        error  // cause when no response arrived, or the 2xx body was unusable
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rest: %s: %s %s: ", e.Conn, e.Method, e.URL)
	if e.StatusCode != 0 {
		b.WriteString(strings.TrimSpace(fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))))
		if e.Err != nil || e.Excerpt != "" {
			b.WriteString(": ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.Excerpt)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the cause of a call that got no response.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the status sentinels of this package.
func (e *Error) Is(target error) bool {
	c := e.StatusCode
	switch target {
	case ErrTransport:
		return c == 0
	case ErrBadResponse:
		return c >= 200 && c < 300 && e.Err != nil
	case ErrBadRequest:
		return c == http.StatusBadRequest
	case ErrUnauthorized:
		return c == http.StatusUnauthorized
	case ErrGone:
		return c == http.StatusGone
	case ErrPreconditionFailed:
		return c == http.StatusPreconditionFailed
	case ErrUnprocessable:
		return c == http.StatusUnprocessableEntity
	case ErrForbidden:
		return c == http.StatusForbidden
	case ErrNotFound:
		return c == http.StatusNotFound
	case ErrConflict:
		return c == http.StatusConflict
	case ErrClientError:
		return c >= 400 && c < 500
	case ErrServerError:
		return c >= 500 && c < 600
	}
	return false
}

// redactor removes a connection's secrets and a call's query values from
// what goes into errors.
type redactor struct {
	secrets []string // literal secret values never to be echoed
	headers []string // header names that carry the connection's credential
}

// url returns u without user info and fragment, with every query value
// replaced by the mark (as [ConnStats] and the telemetry show URLs):
// values are data — ids, e-mail addresses, search terms — that a service
// logging its errors must not write to its logs.
func (r *redactor) url(u *url.URL) string {
	if u == nil {
		return ""
	}
	return r.text(redact.URL(u, nil))
}

// path returns a request path as given by a caller, with its query's
// values replaced like a URL's and any fragment left out.
func (r *redactor) path(p string) string {
	p, frag, hasFrag := strings.Cut(p, "#")
	p, q, hasQuery := strings.Cut(p, "?")
	if hasQuery {
		p += "?" + redact.Query(q, nil)
	}
	if hasFrag && frag != "" {
		p += "#" + redact.Mark
	}
	return r.text(p)
}

// text replaces every known secret value in s, and the extra ones given
// (the credential a request carried).
func (r *redactor) text(s string, extra ...string) string {
	return redact.Values(redact.Values(s, r.secrets...), extra...)
}

// queryForms are the forms in which a server may echo the query values of
// u ([redact.EchoForms]), for [blankQuery]. The query is read leniently:
// url.ParseQuery drops a pair with a ";" or a bad escape, which Conn.Do
// sends as it is in an absolute URL; such a value is taken as written,
// whole and split at its ";".
func queryForms(u *url.URL) []string {
	if u == nil || u.RawQuery == "" {
		return nil
	}
	var forms []string
	add := func(pair string) {
		_, v, _ := strings.Cut(pair, "=")
		if dec, err := url.QueryUnescape(v); err == nil {
			v = dec
		}
		if v != "" {
			forms = append(forms, redact.EchoForms(v)...)
		}
	}
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		add(pair)
		if strings.Contains(pair, ";") {
			for part := range strings.SplitSeq(pair, ";") {
				add(part)
			}
		}
	}
	return forms
}

// blankQuery replaces in s each query value of a call (forms, from
// queryForms) that stands as a whole token: "alice@example.com" in "no
// customer with email alice@example.com", never "4" out of "404".
func blankQuery(s string, forms []string) string { return redact.Tokens(s, forms...) }

// excerpt reads at most maxExcerpt bytes of body and returns them as one
// printable line, scrubbed of the connection's secrets, of the values sent
// with the request (sent) and of the call's query values (forms).
func (r *redactor) excerpt(body io.Reader, sent, forms []string) string {
	longest := 0 // read past the bound by the longest value, scrub, then cut:
	for _, vs := range [][]string{r.secrets, sent, forms} {
		for _, s := range vs {
			longest = max(longest, len(s)) // a value across the bound is never shown in part
		}
	}
	buf := make([]byte, maxExcerpt+longest)
	n, _ := io.ReadFull(body, buf)
	return cut(blankQuery(r.text(printable(buf[:n]), sent...), forms), maxExcerpt)
}

// cut shortens s to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// printable keeps valid UTF-8, folds control characters and runs of space
// into single spaces, and trims the result.
func printable(b []byte) string {
	var sb strings.Builder
	space := false
	for len(b) > 0 {
		ch, size := utf8.DecodeRune(b)
		b = b[size:]
		if ch == utf8.RuneError && size <= 1 {
			if len(b) == 0 && size == 1 { // rune cut by the excerpt bound
				break
			}
			ch = '?'
		}
		if unicode.IsSpace(ch) || unicode.IsControl(ch) {
			space = true
			continue
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteRune(ch)
	}
	return sb.String()
}

// redactedError shows a scrubbed message but keeps the cause for errors.Is
// and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// transportError strips the *url.Error wrapper added by http.Client (it
// holds the unredacted URL) and keeps its cause.
func transportError(err error) error { return redact.URLCause(err) }
