package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/tokenwire/tokenwire/internal/backoff"
	"github.com/tokenwire/tokenwire/rest"
)

// Manifest is the completion manifest of an export: what its status URL
// answers with 200 once the files are ready.
type Manifest struct {
	// TransactionTime is the server time the files reflect: the _since of
	// the next incremental export.
	TransactionTime time.Time `json:"transactionTime"`
	// Request is the kick-off URL the export answers.
	Request string `json:"request"`
	// RequiresAccessToken says that the files are downloaded with the
	// connection's access token (then they must be on its origin).
	RequiresAccessToken bool `json:"requiresAccessToken"`
	// Output lists the files of resources: one or more per type.
	Output []OutputFile `json:"output"`
	// Error lists files of OperationOutcomes ([Conn.ExportIssues]).
	Error []OutputFile `json:"error"`
	// Deleted lists files of Bundles whose DELETE entries name resources
	// deleted since _since.
	Deleted []OutputFile `json:"deleted,omitempty"`
	// Extension holds the server's extensions, undecoded.
	Extension json.RawMessage `json:"extension,omitempty"`
}

// OutputFile is one file of a [Manifest].
type OutputFile struct {
	Type  string `json:"type"`            // resource type of its lines
	URL   string `json:"url"`             // where it is downloaded
	Count int    `json:"count,omitempty"` // lines, when the server says
}

// ExportStatus is what one poll of a status URL learnt.
type ExportStatus struct {
	// StatusCode is 200 when complete, 202 while in progress, or the 429,
	// 503 (or other 5xx with a transient OperationOutcome) of a server
	// that asks, with Retry-After, to be polled later.
	StatusCode int
	// Progress is the server's X-Progress text on one line: control and
	// format characters (bidi overrides, zero-width marks) and line or
	// paragraph separators dropped or made spaces, cut to 100 bytes and an
	// ellipsis.
	Progress string
	// RetryAfter is the wait the server asked for; 0 when it did not.
	RetryAfter time.Duration
	// Wait is what [Export.Wait] sleeps before the next poll: RetryAfter
	// within the bounds of [ExportPolling], else its wait.
	Wait time.Duration
	// Issues are the OperationOutcome issues of a 429 or 5xx answer.
	Issues []Issue
	// Manifest is set when the export is complete.
	Manifest *Manifest
}

// Poll asks the status URL once. In progress, or asked to come back later
// (429, 503 with Retry-After), it returns the status with no Manifest;
// complete, the status with the Manifest. Any other error status gives an
// *[Error] with the server's OperationOutcome issues (404 for an export
// cancelled or expired: errors.Is rest.ErrNotFound).
func (x *Export) Poll(ctx context.Context) (*ExportStatus, error) {
	c := x.conn
	k := call{method: http.MethodGet, url: x.status}
	resp, body, err := c.exchange(ctx, c.doer, k, "application/json", c.maxBody)
	if err != nil {
		return nil, err
	}
	if resp.Request != nil && resp.Request.URL != nil && !c.sameOrigin(resp.Request.URL.String()) {
		// redirected off the server: what answered there is not its status
		return nil, fmt.Errorf("fhir: %s: the status URL redirected to %s: %w", c.name, shownURL(resp.Request.URL.String()), ErrCrossOrigin)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		m, err := c.manifest(k, body)
		if err != nil {
			return nil, err
		}
		return &ExportStatus{StatusCode: code, Manifest: m}, nil
	case code == http.StatusAccepted:
		return x.opts.busy(resp, nil), nil
	case code < 400:
		return nil, c.bulkError(k, code, "the status URL answered %d", code)
	}
	fe := c.statusError(k, resp, body)
	if busyStatus(fe.StatusCode, fe.Issues) && resp.Header.Get("Retry-After") != "" {
		return x.opts.busy(resp, fe.Issues), nil
	}
	return nil, fe
}

// Wait polls the status URL until the export completes, sleeping between
// polls as the server asks (Retry-After, within the bounds of
// [ExportPolling]), and reports each answer to the [ExportProgress]
// callback, with the options the export was started or resumed with. Up
// to [ExportRetries] transient failures in a row are retried with backoff;
// ctx bounds the whole wait.
func (x *Export) Wait(ctx context.Context) (*Manifest, error) {
	failures := 0
	for {
		st, err := x.Poll(ctx)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil || !transient(err) || failures >= x.opts.retries {
				return nil, err
			}
			failures++
			wait = x.opts.backoff(failures)
		} else {
			failures = 0
			if x.opts.progress != nil {
				x.opts.progress(*st)
			}
			if st.Manifest != nil {
				return st.Manifest, nil
			}
			wait = st.Wait
		}
		if err := x.opts.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("fhir: %s: waiting for export %s: %w", x.conn.name, shownURL(x.status), err)
		}
	}
}

// Cancel asks the server to stop the export and delete its files (DELETE
// on the status URL, answered 202 Accepted; any 2xx is taken). Later polls
// get 404.
func (x *Export) Cancel(ctx context.Context) error {
	k := call{method: http.MethodDelete, url: x.status}
	r, err := x.conn.do(ctx, k)
	if err != nil {
		return err
	}
	if r.status < 200 || r.status > 299 {
		return x.conn.bulkError(k, r.status, "cancelling was answered %d, not 202 Accepted", r.status)
	}
	return nil
}

// busy is the status of a 202, or of a 429 or 503 with Retry-After.
func (o *exportSettings) busy(resp *http.Response, issues []Issue) *ExportStatus {
	st := &ExportStatus{StatusCode: resp.StatusCode, Issues: issues,
		Progress: oneLine(resp.Header.Get("X-Progress"), 100)}
	st.RetryAfter, st.Wait = o.waitFor(resp.Header)
	return st
}

// waitFor reads the Retry-After of h: the wait asked for, and the wait
// taken (bounded; the default when none was asked for).
func (o *exportSettings) waitFor(h http.Header) (asked, wait time.Duration) {
	if h.Get("Retry-After") == "" {
		return 0, o.wait
	}
	asked = retryAfter(h)
	return asked, min(max(asked, o.minWait), o.maxWait)
}

// backoff is the wait before retry number n (from 1) after a failure.
func (o *exportSettings) backoff(n int) time.Duration {
	return backoff.Policy{Min: o.minWait, Max: o.maxWait}.Delay(n - 1)
}

// busyStatus reports whether a status (and its issues) asks to try again
// later: 429, 503, or a 5xx whose OperationOutcome has a transient code.
func busyStatus(code int, issues []Issue) bool {
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		return true
	}
	if code < 500 {
		return false
	}
	for _, is := range issues {
		switch is.Code {
		case "transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled":
			return true
		}
	}
	return false
}

// transient reports whether a failed poll or download may succeed when
// tried again: a busy status, a 502 or 504, or a network failure (no
// response, a reset connection, a body cut short, a timeout).
func transient(err error) bool {
	var fe *Error
	if errors.As(err, &fe) && fe.StatusCode != 0 {
		return busyStatus(fe.StatusCode, fe.Issues) || fe.StatusCode == http.StatusBadGateway ||
			fe.StatusCode == http.StatusGatewayTimeout
	}
	var op *net.OpError
	var to interface{ Timeout() bool }
	return errors.As(err, &op) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		(errors.As(err, &to) && to.Timeout())
}

// manifest decodes a completion manifest.
func (c *Conn) manifest(k call, body []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, c.bulkError(k, http.StatusOK, "the manifest does not decode: %v", err)
	}
	for _, files := range [][]OutputFile{m.Output, m.Error, m.Deleted} {
		for i, f := range files {
			if f.URL == "" {
				return nil, c.bulkError(k, http.StatusOK, "manifest file %d (%s) has no url", i, f.Type)
			}
		}
	}
	return &m, nil
}

// send sends k (without a body) through d, accepting accept.
func (c *Conn) send(ctx context.Context, d Doer, k call, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, k.method, k.url, nil)
	if err != nil {
		return nil, c.failed(k, err)
	}
	for key, vs := range k.header {
		req.Header[key] = vs
	}
	req.Header.Set("Accept", accept)
	resp, err := d.Do(req)
	if err != nil {
		return nil, c.failed(k, err)
	}
	return resp, nil
}

// exchange sends k through d and reads at most limit bytes of the answer,
// whatever its status.
func (c *Conn) exchange(ctx context.Context, d Doer, k call, accept string, limit int64) (*http.Response, []byte, error) {
	resp, err := c.send(ctx, d, k, accept)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := readBody(resp, limit)
	if err != nil { // the status still counts, as in Conn.do
		u := redactURL(k.url)
		return nil, nil, &Error{Conn: c.name, Method: k.method, URL: u, StatusCode: resp.StatusCode,
			Err: &rest.Error{Conn: c.name, Method: k.method, URL: u, StatusCode: resp.StatusCode, Attempts: 1, Err: err}}
	}
	return resp, b, nil
}

// retryAfter reads the Retry-After of h; an HTTP date is read against the
// answer's own Date (the server's clock, so no skew between the two
// clocks counts), else against the local clock.
func retryAfter(h http.Header) time.Duration {
	now, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		now = time.Now()
	}
	return backoff.RetryAfter(h.Get("Retry-After"), now)
}
