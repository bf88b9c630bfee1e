package fhir

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// fileBuffer is the read buffer of a download: lines shorter than this are
// handed out from it without a copy.
const fileBuffer = 64 << 10

// fileReader reads the lines of one output file at constant memory, and
// after a transient failure resumes where the last complete line ended
// (Range: bytes=<offset>-), or skips that far when the server has no
// range support.
type fileReader struct {
	c    *Conn
	o    *exportSettings
	k    call // GET of the file
	doer Doer

	body       io.ReadCloser
	br         *bufio.Reader
	buf        []byte        // a line longer than the buffer, reused
	offset     int64         // bytes of the complete lines read
	line       int           // number of the last line read, from 1
	failures   int           // transient failures since the last line
	retryAfter time.Duration // asked for by the last 429 or 503
	done       bool          // nothing left to read
}

// openFile prepares the download of f, choosing who sends it: the
// connection's Doer (with the token) when the manifest requires the
// token, a client without credentials otherwise. The returned func
// releases that client's idle connections.
func (c *Conn) openFile(m *Manifest, f OutputFile, o *exportSettings) (*fileReader, func(), error) {
	k := call{method: http.MethodGet, url: f.URL}
	if m == nil {
		return nil, nil, fmt.Errorf("fhir: %s: export file %s: no manifest", c.name, shownURL(f.URL))
	}
	u, err := url.Parse(f.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, nil, fmt.Errorf("fhir: %s: export file %s: %w: not an absolute http(s) URL", c.name, shownURL(f.URL), ErrBulkProtocol)
	case u.Scheme == "http" && c.base.Scheme == "https":
		return nil, nil, fmt.Errorf("fhir: %s: export file %s: %w: plain http from an https server", c.name, shownURL(f.URL), ErrBulkProtocol)
	}
	r := &fileReader{c: c, o: o, k: k}
	switch {
	case m.RequiresAccessToken:
		if !c.sameOrigin(f.URL) {
			return nil, nil, c.crossOrigin("export file (requiresAccessToken)", f.URL)
		}
		r.doer = c.doer
		return r, func() {}, nil
	case o.fileClient != nil:
		r.doer = o.fileClient
		return r, func() {}, nil
	}
	cl := newFileClient()
	r.doer = cl
	return r, cl.CloseIdleConnections, nil
}

// newFileClient is a client that never attaches a credential, with
// timeouts on everything but the body (a file may take long to read).
func newFileClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4,
	}}
}

// next returns the next line without its line end, valid until the next
// call, or long when it was longer than the bound (then no content);
// io.EOF after the last line.
func (r *fileReader) next(ctx context.Context) (line []byte, long bool, err error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, r.c.failed(r.k, err)
		}
		if r.body == nil && !r.done {
			if err := r.open(ctx); err != nil {
				if err := r.retry(ctx, err); err != nil {
					return nil, false, err
				}
				continue
			}
		}
		if r.done {
			return nil, false, io.EOF
		}
		line, long, err := r.readLine()
		if err == nil {
			r.line++
			r.failures = 0
			return line, long, nil
		}
		r.close()
		if err == io.EOF {
			r.done = true
			return nil, false, io.EOF
		}
		if err := r.retry(ctx, r.c.failed(r.k, err)); err != nil {
			return nil, false, err
		}
	}
}

// readLine reads one line; a line cut short by a failure is dropped, and
// the offset stays where it began. A line too long is skipped up to twice
// the bound: one longer (a line without end) ends the file.
func (r *fileReader) readLine() ([]byte, bool, error) {
	max := int64(r.o.maxLine)
	chunk, err := r.br.ReadSlice('\n')
	if err == nil { // the common case: the whole line is in the buffer
		r.offset += int64(len(chunk))
		if int64(len(chunk)) > max {
			return nil, true, nil
		}
		return trimEOL(chunk), false, nil
	}
	n := int64(len(chunk))
	r.buf = append(r.buf[:0], chunk...)
	for err == bufio.ErrBufferFull {
		chunk, err = r.br.ReadSlice('\n')
		n += int64(len(chunk))
		if n <= max {
			r.buf = append(r.buf, chunk...)
		}
		if err == bufio.ErrBufferFull && n > 2*max {
			return nil, false, fmt.Errorf("%w: line %d: more than %d bytes without a line end", ErrBulkProtocol, r.line+1, 2*max)
		}
	}
	if err != nil && (err != io.EOF || n == 0) {
		return nil, false, err
	}
	r.offset += n // a complete line, or the last one without a line end
	if n > max {
		return nil, true, nil
	}
	return trimEOL(r.buf), false, nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// open requests the file from the offset reached.
func (r *fileReader) open(ctx context.Context) error {
	k := r.k
	if r.offset > 0 {
		k.header = http.Header{"Range": {"bytes=" + strconv.FormatInt(r.offset, 10) + "-"}}
	}
	resp, err := r.c.send(ctx, r.doer, k, ndjsonType)
	if err != nil {
		return err
	}
	if err := r.accept(k, resp); err != nil || r.done {
		resp.Body.Close()
		return err
	}
	r.body = resp.Body
	if r.br == nil {
		r.br = bufio.NewReaderSize(resp.Body, fileBuffer)
	} else {
		r.br.Reset(resp.Body)
	}
	return nil
}

// accept checks the answer to a GET, ranged when resuming: 206 from the
// offset, or 200 whose first offset bytes are skipped (no range support).
func (r *fileReader) accept(k call, resp *http.Response) error {
	code := resp.StatusCode
	switch {
	case code == http.StatusOK:
		if _, err := io.CopyN(io.Discard, resp.Body, r.offset); err != nil {
			return r.c.failed(k, err)
		}
		return nil
	case code == http.StatusPartialContent && r.offset > 0:
		if start, _, ok := contentRange(resp.Header.Get("Content-Range")); ok && start == r.offset {
			return nil
		}
		return r.c.bulkError(k, code, "206 Partial Content does not start at byte %d", r.offset)
	case code == http.StatusRequestedRangeNotSatisfiable && r.offset > 0:
		if _, size, ok := contentRange(resp.Header.Get("Content-Range")); ok && size == r.offset {
			r.done = true // the cut came after the last line
			return nil
		}
	case code >= 400:
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			r.retryAfter = retryAfter(resp.Header)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return r.c.statusError(k, resp, body)
	}
	return r.c.bulkError(k, code, "the file was answered %d", code)
}

// contentRange parses "bytes start-end/size" or "bytes */size"; size is
// -1 when unknown ("/*").
func contentRange(v string) (start, size int64, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	rng, total, found2 := strings.Cut(spec, "/")
	if !found || !found2 {
		return 0, 0, false
	}
	size = -1
	if total != "*" {
		n, err := strconv.ParseInt(total, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		size = n
	}
	if rng == "*" {
		return -1, size, true
	}
	first, _, _ := strings.Cut(rng, "-")
	start, err := strconv.ParseInt(first, 10, 64)
	return start, size, err == nil
}

// retry waits before the next attempt after a transient failure, or
// returns the error that ends the download.
func (r *fileReader) retry(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return r.c.failed(r.k, ctx.Err())
	}
	if !transient(err) || r.failures >= r.o.retries {
		return err
	}
	r.failures++
	wait := r.o.backoff(r.failures)
	if r.retryAfter > 0 {
		wait = min(max(r.retryAfter, r.o.minWait), r.o.maxWait)
		r.retryAfter = 0
	}
	if err := r.o.sleep(ctx, wait); err != nil {
		return r.c.failed(r.k, err)
	}
	return nil
}

func (r *fileReader) close() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// lineError is the error of the last line read.
func (r *fileReader) lineError(err error) *ExportLineError {
	return &ExportLineError{Conn: r.c.name, URL: redactURL(r.k.url), Line: r.line, Err: err}
}
