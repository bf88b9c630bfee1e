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

// ExportOption sets up a bulk export: its kick-off parameters, the polling
// of its status URL and the download of its files. Every step takes the
// same options and ignores those that do not concern it, so one slice of
// them serves [Conn.Export] and the [ExportFile] of its files. Without
// options an export asks for everything, with the defaults each function
// names.
type ExportOption func(*exportSettings)

// exportSettings are what the ExportOption functions set; a zero field
// takes its default (withDefaults).
type exportSettings struct {
	types  []string
	since  time.Time
	params url.Values

	wait, minWait, maxWait time.Duration
	retries                int // 0: default; negative: none
	progress               func(ExportStatus)
	sleep                  func(ctx context.Context, d time.Duration) error

	maxLine    int
	badLine    func(*ExportLineError)
	fileClient *http.Client
}

// ExportTypes asks only for resources of these types (_type); repeated,
// it adds to the list. Default: every type the server exports.
func ExportTypes(types ...string) ExportOption {
	return func(o *exportSettings) { o.types = append(o.types, types...) }
}

// ExportSince asks only for resources changed after t (_since, sent as a
// FHIR instant in UTC), such as the [Manifest] TransactionTime of the
// previous export. Default (or a zero t): no _since.
func ExportSince(t time.Time) ExportOption {
	return func(o *exportSettings) { o.since = t }
}

// ExportParam adds another kick-off parameter, such as _typeFilter (a
// search query restricting one type, such as
// "Observation?category=vital-signs"; repeat it for several),
// _outputFormat (default application/fhir+ndjson), _elements, patient or
// includeAssociatedData. _type and _since come from [ExportTypes] and
// [ExportSince], which win over this.
func ExportParam(name, value string) ExportOption {
	return func(o *exportSettings) {
		if o.params == nil {
			o.params = url.Values{}
		}
		o.params.Add(name, value)
	}
}

// ExportPolling sets wait, the wait between polls when the server sends
// no Retry-After (default 2s), and the bounds a Retry-After is held
// within, minWait and maxWait (default 1s and 1m), which also bound the
// backoff after a transient failure. A zero or negative duration keeps
// its default; a maxWait below minWait is raised to it.
func ExportPolling(wait, minWait, maxWait time.Duration) ExportOption {
	return func(o *exportSettings) { o.wait, o.minWait, o.maxWait = wait, minWait, maxWait }
}

// ExportRetries sets how many transient failures in a row (no response, a
// body cut short, 429 or 5xx) a poll or a download survives. Default 5;
// ExportRetries(0) (or a negative n) retries nothing. A 202, or a 429 or
// 503 with Retry-After while polling, is no failure: it is waited out.
func ExportRetries(n int) ExportOption {
	return func(o *exportSettings) {
		o.retries = n
		if n <= 0 {
			o.retries = -1 // explicit: none, where an unset 0 is the default
		}
	}
}

// ExportProgress calls fn with every answer [Export.Wait] polls: the
// in-progress ones (X-Progress, the wait to come) and the final one.
// Default: none.
func ExportProgress(fn func(ExportStatus)) ExportOption {
	return func(o *exportSettings) { o.progress = fn }
}

// ExportSleep replaces the wait between polls and before a download is
// tried again. Default (or nil): a timer that ends early with ctx. A test
// passes one that records the waits and returns at once.
func ExportSleep(fn func(ctx context.Context, d time.Duration) error) ExportOption {
	return func(o *exportSettings) { o.sleep = fn }
}

// ExportMaxLine bounds a line of an output file to n bytes, its line end
// included (default, or n <= 0: 16 MiB); a longer line is a bad line
// wrapping [ErrBodyTooLarge]. It also bounds a run of blank lines, and
// twice n a line's skipped length: past either, the file ends with an
// error wrapping [ErrBulkProtocol].
func ExportMaxLine(n int) ExportOption {
	return func(o *exportSettings) { o.maxLine = n }
}

// ExportBadLine gives fn each line of a file that cannot be used (see
// [ExportLineError]), and the iteration goes on with the next line.
// Default (or nil): a bad line ends the iteration with its
// *[ExportLineError], as any failure does.
func ExportBadLine(fn func(*ExportLineError)) ExportOption {
	return func(o *exportSettings) { o.badLine = fn }
}

// ExportFileClient downloads the files of a manifest whose
// requiresAccessToken is false. Default (or nil): a client of its own
// with dial, TLS and response-header timeouts, which never attaches a
// credential. Files that need the token are downloaded through the
// connection's Doer whatever this says.
func ExportFileClient(c *http.Client) ExportOption {
	return func(o *exportSettings) { o.fileClient = c }
}

// exportConfig applies opts to the zero settings and fills in the
// defaults.
func exportConfig(opts []ExportOption) exportSettings {
	var o exportSettings
	for _, opt := range opts {
		opt(&o)
	}
	return o.withDefaults()
}

// withDefaults fills in the defaults of the zero fields.
func (o exportSettings) withDefaults() exportSettings {
	o.wait = cmpOr(o.wait, defaultExportWait)
	o.minWait = cmpOr(o.minWait, defaultExportMinWait)
	o.maxWait = max(cmpOr(o.maxWait, defaultExportMaxWait), o.minWait)
	switch {
	case o.retries == 0:
		o.retries = defaultExportRetries
	case o.retries < 0:
		o.retries = 0
	}
	if o.maxLine <= 0 {
		o.maxLine = defaultMaxLine
	}
	if o.sleep == nil {
		o.sleep = backoff.Sleep
	}
	return o
}

func cmpOr(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// query is the kick-off's parameters.
func (o *exportSettings) query() (url.Values, error) {
	q := url.Values{}
	for k, vs := range o.params {
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
	if q.Get("_outputFormat") == "" {
		q.Set("_outputFormat", ndjsonType)
	}
	return q, nil
}
