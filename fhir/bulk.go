package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tokenwire/tokenwire/rest"
)

// Bulk Data Access IG v2.0.0, client side of $export: the kick-off, the
// options shared by every step, and the sentinels. Polling is in
// bulk_poll.go, downloads in bulk_download.go and bulk_files.go.

// ndjsonType is the media type of Bulk Data output files, the default
// _outputFormat and the Accept header of their downloads.
const ndjsonType = "application/fhir+ndjson"

// Defaults of the [ExportOption] settings.
const (
	defaultExportWait    = 2 * time.Second // between polls when the server sends no Retry-After
	defaultExportMinWait = time.Second     // a shorter Retry-After is raised to this
	defaultExportMaxWait = time.Minute     // a longer Retry-After is cut to this
	defaultMaxLine       = 16 << 20        // longest line of an output file, its line end included
	defaultExportRetries = 5               // transient failures in a row before a poll or download gives up
)

var (
	// ErrBulkProtocol is wrapped when a server's answer breaks the Bulk
	// Data protocol: a kick-off not answered 202 with a Content-Location,
	// a manifest that does not decode, a file URL that is not http(s).
	ErrBulkProtocol = errors.New("unexpected bulk data response")
	// ErrCrossOrigin is returned, before anything is sent, for a status
	// URL that is not on the base URL's origin, or a file that needs the
	// access token (requiresAccessToken) on another origin: the token goes
	// only to its own server.
	ErrCrossOrigin = errors.New("not on the origin of the base URL")
)

// Export is a bulk export under way on the server, known by its status
// URL. It holds no state but that URL and its options: it is safe for
// concurrent use, and [Conn.ResumeExport] makes an equal one later.
type Export struct {
	conn   *Conn
	status string
	opts   exportSettings // with the defaults filled in
}

// Export starts a system-level export of the whole server
// (GET [base]/$export with Prefer: respond-async). The server answers 202
// with the status URL, which must be on the base URL's origin
// ([ErrCrossOrigin]); an error status gives an *[Error] with its
// OperationOutcome issues, and any other answer one wrapping
// [ErrBulkProtocol]. Without options it exports everything with the
// defaults. The options are kept for [Export.Wait]; pass the same ones to
// the downloads of the files.
//
//	opts := []fhir.ExportOption{fhir.ExportTypes("Patient", "Observation")}
//	x, err := conn.Export(ctx, opts...)
//	m, err := x.Wait(ctx)
//	for _, f := range m.Output {
//		for p, err := range fhir.ExportFile[models.Patient](ctx, conn, m, f, opts...) { … }
//	}
func (c *Conn) Export(ctx context.Context, opts ...ExportOption) (*Export, error) {
	return c.kickOff(ctx, nil, opts)
}

// ExportGroup starts an export of the patients of a Group and their data
// (GET [base]/Group/[id]/$export); see [Conn.Export].
func (c *Conn) ExportGroup(ctx context.Context, groupID string, opts ...ExportOption) (*Export, error) {
	if checkID("id", groupID) != nil {
		return nil, fmt.Errorf("fhir: %s: $export: invalid Group id %q: %w", c.name, groupID, rest.ErrBadPath)
	}
	return c.kickOff(ctx, []string{"Group", groupID}, opts)
}

// ExportPatients starts an export of all patients and their data
// (GET [base]/Patient/$export); see [Conn.Export].
func (c *Conn) ExportPatients(ctx context.Context, opts ...ExportOption) (*Export, error) {
	return c.kickOff(ctx, []string{"Patient"}, opts)
}

// ResumeExport returns the export whose status URL a caller kept (from
// [Export.StatusURL]), to poll, wait for or cancel it. The URL must be on
// the base URL's origin ([ErrCrossOrigin]).
func (c *Conn) ResumeExport(statusURL string, opts ...ExportOption) (*Export, error) {
	if !c.sameOrigin(statusURL) {
		return nil, c.crossOrigin("status URL", statusURL)
	}
	return &Export{conn: c, status: statusURL, opts: exportConfig(opts)}, nil
}

func (c *Conn) kickOff(ctx context.Context, segs []string, opts []ExportOption) (*Export, error) {
	o := exportConfig(opts)
	q, err := o.query()
	if err != nil {
		return nil, fmt.Errorf("fhir: %s: $export: %w", c.name, err)
	}
	k := call{method: http.MethodGet, url: c.url(q, append(segs, "$export")...),
		header: http.Header{"Prefer": {"respond-async"}}}
	r, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusAccepted {
		return nil, c.bulkError(k, r.status, "the kick-off was answered %d, not 202 Accepted", r.status)
	}
	loc := r.header.Get("Content-Location")
	if loc == "" {
		return nil, c.bulkError(k, r.status, "202 Accepted without a Content-Location")
	}
	status, err := resolve(k.url, loc)
	if err != nil {
		return nil, c.bulkError(k, r.status, "Content-Location is no URL")
	}
	if !c.sameOrigin(status) {
		return nil, c.crossOrigin("status URL", status)
	}
	return &Export{conn: c, status: status, opts: o}, nil
}

// resolve makes ref (a Content-Location, maybe relative) absolute against
// the URL of the request it answered.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

// StatusURL returns the export's status URL: keep it to resume the export
// later with [Conn.ResumeExport].
func (x *Export) StatusURL() string { return x.status }

// bulkError is the *Error of an answer that breaks the protocol.
func (c *Conn) bulkError(k call, status int, format string, args ...any) *Error {
	u := redactURL(k.url)
	cause := fmt.Errorf("%w: %s", ErrBulkProtocol, fmt.Sprintf(format, args...))
	return &Error{Conn: c.name, Method: k.method, URL: u, StatusCode: status,
		Err: &rest.Error{Conn: c.name, Method: k.method, URL: u, StatusCode: status, Attempts: 1, Err: cause}}
}

// crossOrigin is the error of a URL the connection refuses to send to.
func (c *Conn) crossOrigin(what, raw string) error {
	return fmt.Errorf("fhir: %s: %s %s: %w %s; nothing was sent", c.name, what, shownURL(raw), ErrCrossOrigin, c.BaseURL())
}
