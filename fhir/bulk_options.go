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

// ExportOptions are the settings of a bulk export: its kick-off
// parameters, the polling of its status URL and the download of its
// files. Each step takes the same value and ignores the fields that do not
// concern it. The zero value exports everything with the defaults below.
type ExportOptions struct {
	// Types asks only for resources of these types (_type).
	Types []string
	// Since asks only for resources changed after it (_since, sent as a
	// FHIR instant in UTC); zero: no _since.
	Since time.Time
	// Params are other kick-off parameters, such as _typeFilter (a search
	// query restricting one type, such as
	// "Observation?category=vital-signs"), _outputFormat (default
	// application/fhir+ndjson), _elements, patient or
	// includeAssociatedData.
	Params url.Values

	// Wait is the wait between polls when the server sends no Retry-After
	// (0: 2s); a Retry-After is held within MinWait and MaxWait (0: 1s
	// and 1m), which also bound the backoff after a transient failure.
	Wait, MinWait, MaxWait time.Duration
	// Retries is how many transient failures in a row (no response, a
	// body cut short, 429 or 5xx) a poll or a download survives (0: 5;
	// negative: none). A 202, or a 429 or 503 with Retry-After while
	// polling, is no failure: it is waited out.
	Retries int
	// Progress, when set, is called with every answer [Export.Wait]
	// polls: the in-progress ones (X-Progress, the wait to come) and the
	// final one.
	Progress func(ExportStatus)
	// Sleep waits between polls and before a download is tried again
	// (nil: a timer that ends early with ctx). A test injects one that
	// records the waits and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error

	// MaxLine bounds a line of an output file to this many bytes, its
	// line end included (0: 16 MiB); a longer line is a bad line wrapping
	// [ErrBodyTooLarge]. It also bounds a run of blank lines, and twice
	// MaxLine a line's skipped length: past either, the file ends with an
	// error wrapping [ErrBulkProtocol].
	MaxLine int
	// BadLine, when set, is given each line of a file that cannot be used
	// (see [ExportLineError]) and the iteration goes on with the next
	// line. When nil, a bad line ends the iteration with its
	// *[ExportLineError], as any failure does.
	BadLine func(*ExportLineError)
	// FileClient downloads the files of a manifest whose
	// requiresAccessToken is false (nil: a client of its own with dial,
	// TLS and response-header timeouts, which never attaches a
	// credential). Files that need the token are downloaded through the
	// connection's Doer.
	FileClient *http.Client
}

// withDefaults fills in the defaults of the zero fields.
func (o ExportOptions) withDefaults() ExportOptions {
	o.Wait = cmpOr(o.Wait, defaultExportWait)
	o.MinWait = cmpOr(o.MinWait, defaultExportMinWait)
	o.MaxWait = max(cmpOr(o.MaxWait, defaultExportMaxWait), o.MinWait)
	switch {
	case o.Retries == 0:
		o.Retries = defaultExportRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.MaxLine <= 0 {
		o.MaxLine = defaultMaxLine
	}
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
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
func (o *ExportOptions) query() (url.Values, error) {
	q := url.Values{}
	for k, vs := range o.Params {
		q[k] = append([]string(nil), vs...)
	}
	for _, t := range o.Types {
		if checkType(t) != nil {
			return nil, fmt.Errorf("invalid _type %q: %w", t, rest.ErrBadPath)
		}
	}
	if len(o.Types) > 0 {
		q.Set("_type", strings.Join(o.Types, ","))
	}
	if !o.Since.IsZero() {
		q.Set("_since", o.Since.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	if q.Get("_outputFormat") == "" {
		q.Set("_outputFormat", ndjsonType)
	}
	return q, nil
}
