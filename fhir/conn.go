package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokenwire/tokenwire/internal/callctx"
	"github.com/tokenwire/tokenwire/internal/origin"
	"github.com/tokenwire/tokenwire/rest"
)

// mediaType is the FHIR JSON media type sent in Accept and Content-Type.
// JSON is the only format a [Conn] speaks, and the Accept header asks for
// it, so no request needs a _format parameter.
const mediaType = "application/fhir+json"

// defaultMaxBody bounds every response body read by a [Conn] (16 MiB),
// enough for a large searchset page; see [WithMaxBody]. The body of an
// error answer (>= 400) is bounded to 1 MiB, of which an [Error] keeps
// the first 20 OperationOutcome issues.
const defaultMaxBody = 16 << 20

// Doer sends one HTTP request. *http.Client satisfies it, and so does any
// client that attaches tokens (an oauthclient client, a rest connection).
// A Conn never adds credentials itself: renewing a token and retrying on 401
// is the Doer's job.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Conn is a named connection to one FHIR R4 server. It is safe for
// concurrent use. It holds no secret itself (the credentials are the
// Doer's), so it has no printing method of its own: fmt shows its fields,
// and the Doer only as an address.
type Conn struct {
	name    string
	base    *url.URL
	doer    Doer
	maxBody int64
	caps    capCache // the server's CapabilityStatement, read once
	dec     decoding // strict or lenient codes (Lenient)
	limits  pageLimits
}

// Option configures a [Conn].
type Option func(*Conn)

// WithMaxBody bounds response bodies to n bytes (default 16 MiB).
func WithMaxBody(n int64) Option {
	return func(c *Conn) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// New returns a connection named name to the FHIR server at baseURL
// (for example "https://ehr.example.com/fhir/R4"), sending requests through
// doer. The name appears in errors.
func New(name, baseURL string, doer Doer, opts ...Option) (*Conn, error) {
	if doer == nil {
		return nil, fmt.Errorf("fhir: connection %q: nil Doer", name)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("fhir: connection %q: base URL must be an absolute http(s) URL", name)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("fhir: connection %q: base URL must have no user info, query or fragment", name)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c := &Conn{name: name, base: u, doer: doer, maxBody: defaultMaxBody, limits: defaultPageLimits}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL returns the server's base URL, without a trailing slash.
func (c *Conn) BaseURL() string { return c.base.String() }

// url joins path segments (escaped) to the base URL and adds the query.
func (c *Conn) url(q url.Values, segs ...string) string {
	u := *c.base
	for _, s := range segs {
		if s == "" {
			continue
		}
		u.Path += "/" + s
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sameOrigin reports whether raw (a paging link) is on the server's
// origin: scheme, host and port, compared without case and with the
// scheme's default port made explicit.
func (c *Conn) sameOrigin(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && origin.New(c.base).Match(u)
}

// call is one request to send.
type call struct {
	method string
	url    string
	body   []byte
	ctype  string
	header http.Header
	safe   bool  // a read sent by POST (_search): retried like a GET
	alt    *call // sent instead when the server answers 414 URI Too Long
	// searches are queries sent in the body (a transaction's conditional
	// URLs and references), whose values an error blanks like the URL's.
	searches func() []string
}

// reply is what came back: the status, headers and the bounded body.
type reply struct {
	status int
	header http.Header
	body   []byte
	req    *http.Request // the request as sent (its credential), for an error
}

// do sends the call and reads the bounded body; a status >= 400 becomes an
// *Error.
func (c *Conn) do(ctx context.Context, k call) (*reply, error) {
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	if k.safe {
		ctx = callctx.Retryable(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, k.url, body)
	if err != nil {
		return nil, c.failed(k, err)
	}
	for key, vs := range k.header {
		req.Header[key] = vs
	}
	req.Header.Set("Accept", mediaType)
	if k.body != nil {
		ct := k.ctype
		if ct == "" {
			ct = mediaType
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.doer.Do(req)
	if err != nil {
		return nil, c.failed(k, err)
	}
	defer resp.Body.Close()
	b, err := readBody(resp, c.maxBody)
	if err != nil { // the status still counts: a 404 too large to read is a 404
		u := redactURL(k.url)
		return nil, &Error{Conn: c.name, Method: k.method, URL: u, StatusCode: resp.StatusCode,
			Err: &rest.Error{Conn: c.name, Method: k.method, URL: u, StatusCode: resp.StatusCode, Attempts: 1, Err: err}}
	}
	if resp.StatusCode >= 400 {
		return nil, c.statusError(k, resp, b)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b, req: resp.Request}, nil
}

// ErrBodyTooLarge is wrapped when a response exceeds a bound of the
// connection: a body longer than [WithMaxBody], or a page with more entries
// or links than [WithMaxEntries], or a line of an export file longer than
// its [ExportMaxLine] (wrapped by its [ExportLineError]).
var ErrBodyTooLarge = errors.New("response body too large")

// maxErrorBody bounds the body of an answer >= 400 (an OperationOutcome
// of thousands of issues): only its first issues are kept.
const maxErrorBody = 1 << 20

// readBody reads resp's body, of at most max bytes, or maxErrorBody for an
// answer >= 400.
func readBody(resp *http.Response, max int64) ([]byte, error) {
	if resp.StatusCode >= 400 {
		max = min(max, maxErrorBody)
	}
	return readBounded(resp.Body, max)
}

func readBounded(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response body: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w (more than %d bytes)", ErrBodyTooLarge, max)
	}
	return b, nil
}

// marshal encodes v (a resource) as JSON.
func marshal(v any) ([]byte, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("fhir: encoding %T: %w", v, err)
	}
	return b, nil
}
