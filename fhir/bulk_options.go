package fhir

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/internal/backoff"

	"github.com/tokenwire/tokenwire/rest"
)

// ExportOption adjusts a bulk export: its kick-off parameters, the polling
// of its status URL and the download of its files. Options that do not
// concern a step are ignored by it, so one list may be passed to every
// step.
type ExportOption func(*exportOpts)

type exportOpts struct {
	types  []string
	since  time.Time
	format string
	extra  url.Values

	wait, minWait, maxWait time.Duration
	progress               func(ExportStatus)
	sleep                  func(context.Context, time.Duration) error

	maxLine int
	client  *http.Client
	retries int
}

// ExportTypes asks only for resources of these types (_type; the types of
// several ExportTypes add up).
func ExportTypes(types ...string) ExportOption {
	return func(o *exportOpts) { o.types = append(o.types, types...) }
}

// ExportSince asks only for resources changed after t (_since, sent as a
// FHIR instant in UTC).
func ExportSince(t time.Time) ExportOption { return func(o *exportOpts) { o.since = t } }

// ExportParam adds any other kick-off parameter (repeatable), such as
// _typeFilter (a search query restricting one type, such as
// "Observation?category=vital-signs"), _outputFormat (default
// application/fhir+ndjson), _elements, patient or includeAssociatedData.
func ExportParam(name, value string) ExportOption {
	return func(o *exportOpts) {
		if o.extra == nil {
			o.extra = url.Values{}
		}
		o.extra.Add(name, value)
	}
}

// ExportPolling sets the wait between polls when the server sends no
// Retry-After (default 2s) and the bounds a Retry-After
// is held within (defaults 1s, 1m).
// A zero argument keeps its default.
func ExportPolling(wait, minWait, maxWait time.Duration) ExportOption {
	return func(o *exportOpts) {
		o.wait = cmpOr(wait, o.wait)
		o.minWait = cmpOr(minWait, o.minWait)
		o.maxWait = cmpOr(maxWait, o.maxWait)
	}
}

// ExportProgress calls fn with every answer [Export.Wait] polls: the
// in-progress ones (X-Progress, the wait to come) and the final one.
func ExportProgress(fn func(ExportStatus)) ExportOption {
	return func(o *exportOpts) { o.progress = fn }
}

// ExportSleep replaces the wait between polls and between download
// retries (default: a timer that ends early with ctx). Tests inject one
// that records the waits and returns at once.
func ExportSleep(sleep func(ctx context.Context, d time.Duration) error) ExportOption {
	return func(o *exportOpts) { o.sleep = sleep }
}

// ExportMaxLine bounds the lines of an output file to n bytes, line end
// included (default 16 MiB); a longer line is skipped with an
// error wrapping [ErrBodyTooLarge]. It also bounds a run of blank lines,
// and twice n a line's skipped length: past that the file ends with an
// error wrapping [ErrBulkProtocol].
func ExportMaxLine(n int) ExportOption {
	return func(o *exportOpts) {
		if n > 0 {
			o.maxLine = n
		}
	}
}

// ExportFileClient sets the client that downloads files of a manifest
// with requiresAccessToken false (default: a client of its own with dial,
// TLS and response-header timeouts, which never attaches a credential).
// Files that need the token are downloaded through the connection's Doer.
func ExportFileClient(c *http.Client) ExportOption { return func(o *exportOpts) { o.client = c } }

// ExportRetries sets how many transient failures in a row (no response, a
// body cut short, 429 or 5xx) a poll or a download survives (default
// 5; 0 or less: none). A 202, or a 429 or 503 with
// Retry-After while polling, is no failure: it is waited out.
func ExportRetries(n int) ExportOption {
	return func(o *exportOpts) { o.retries = max(n, 0) }
}

func cmpOr(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

func exportOptions(opts []ExportOption) exportOpts {
	o := exportOpts{format: ndjsonType, wait: defaultExportWait, minWait: defaultExportMinWait,
		maxWait: defaultExportMaxWait, sleep: backoff.Sleep, maxLine: defaultMaxLine,
		retries: defaultExportRetries}
	for _, f := range opts {
		f(&o)
	}
	o.maxWait = max(o.maxWait, o.minWait)
	return o
}

// query is the kick-off's parameters.
func (o *exportOpts) query() (url.Values, error) {
	q := url.Values{}
	for k, vs := range o.extra {
		q[k] = append([]string(nil), vs...)
	}
	for _, t := range o.types {
		if checkType(t) != nil {
			return nil, fmt.Errorf("invalid _type %q: %w", t, rest.ErrBadPath)
		}
	}
	if len(o.types) > 0 {
		q.Set("_type", strings.Join(o.types, ","))
	}
	if !o.since.IsZero() {
		q.Set("_since", o.since.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	if o.format != "" && q.Get("_outputFormat") == "" {
		q.Set("_outputFormat", o.format)
	}
	return q, nil
}
