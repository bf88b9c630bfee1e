package fhir_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

// exchange is a request a recordingDoer sent, and the status it got.
type exchange struct {
	url, rangeHeader, auth string
	status                 int
}

// recordingDoer sends through next (adding a bearer token when token is
// set) and records every exchange.
type recordingDoer struct {
	next  fhir.Doer
	token string
	mu    sync.Mutex
	log   []exchange
}

func (d *recordingDoer) Do(r *http.Request) (*http.Response, error) {
	if d.token != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := d.next.Do(r)
	e := exchange{url: r.URL.String(), rangeHeader: r.Header.Get("Range"), auth: r.Header.Get("Authorization")}
	if resp != nil {
		e.status = resp.StatusCode
	}
	d.mu.Lock()
	d.log = append(d.log, e)
	d.mu.Unlock()
	return resp, err
}

// to returns the exchanges with URLs containing part.
func (d *recordingDoer) to(part string) []exchange {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []exchange
	for _, e := range d.log {
		if strings.Contains(e.url, part) {
			out = append(out, e)
		}
	}
	return out
}

// exported runs an export of srv to completion through conn.
func exported(t *testing.T, conn *fhir.Conn) *fhir.Manifest {
	t.Helper()
	x, err := conn.Export(ctx(t), fhir.ExportSleep((&sleeper{}).sleep))
	require.NoError(t, err)
	m, err := x.Wait(ctx(t))
	require.NoError(t, err)
	return m
}

func download(t *testing.T, srv *fhirtest.Server, f fhir.OutputFile) []byte {
	t.Helper()
	resp, err := srv.Client().Get(f.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// A download cut mid-body is resumed after the last complete line: with
// Range where the server supports it, by skipping what was read where it
// does not. No resource is lost or yielded twice.
func TestExportFileResumes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []fhirtest.Option
		wantStatus int
	}{
		{"range", nil, http.StatusPartialContent},
		{"no range support", []fhirtest.Option{fhirtest.WithoutExportRanges()}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fhirtest.NewServer(tc.opts...)
			t.Cleanup(srv.Close)
			seedBulk(t, srv, 40)
			rec := &recordingDoer{next: srv.Client()}
			conn, err := fhir.New("ehr", srv.URL, rec)
			require.NoError(t, err)
			m := exported(t, conn)
			f := file(t, m, "Patient")
			data := download(t, srv, f)
			const cut = 1000
			require.NotEqual(t, byte('\n'), data[cut-1], "the cut falls inside a line")
			resumeAt := bytes.LastIndexByte(data[:cut], '\n') + 1

			srv.CutNextDownload(cut)
			sl := &sleeper{}
			var ids []string
			files := &http.Client{Transport: roundTrip(rec.Do)} // the files need no token
			for p, err := range fhir.ExportFile[models.Patient](ctx(t), conn, m, f, fhir.ExportSleep(sl.sleep), fhir.ExportFileClient(files)) {
				require.NoError(t, err)
				ids = append(ids, *p.Id)
			}
			want := make([]string, 40)
			for i := range want {
				want[i] = fmt.Sprintf("p%d", i)
			}
			assert.Equal(t, want, ids, "every resource once, in order")
			got := rec.to(f.URL)
			require.Len(t, got, 2, "one cut, one resume")
			assert.Empty(t, got[0].rangeHeader)
			assert.Equal(t, fmt.Sprintf("bytes=%d-", resumeAt), got[1].rangeHeader)
			assert.Equal(t, tc.wantStatus, got[1].status)
			assert.Len(t, sl.all(), 1, "one backoff")
		})
	}
}

// linesServer serves body at /files/f.ndjson?sig=SECRET-SIG.
func linesServer(t *testing.T, body string) (*scripted, *fhir.Manifest) {
	t.Helper()
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+ndjson")
		fmt.Fprint(w, body)
	})
	return srv, &fhir.Manifest{Output: []fhir.OutputFile{{Type: "Patient", URL: srv.URL + "/files/f.ndjson?sig=SECRET-SIG"}}}
}

// badLinesBody is a file whose lines 2, 4, 5 and 6 cannot be used as
// Patients (line 3 is blank): they do not decode, or (6) are longer than
// 200 bytes. None of them may reach an error's text.
var badLinesBody = strings.Join([]string{
	`{"resourceType":"Patient","id":"a"}` + "\r",
	`{"resourceType":"Patient","id":"SECRET-1",`,
	``,
	`{"resourceType":"Observation","id":"o","status":"final","code":{}}`,
	`{"resourceType":"Patient","gender":"SECRET-2"}`,
	`{"resourceType":"Patient","id":"long","name":[{"text":"` + strings.Repeat("SECRET-3 ", 30) + `"}]}`,
	`{"resourceType":"Patient","id":"c"}`, // no line end at the end of the file
}, "\n")

// With BadLine, a line that does not decode, or is too long, goes there,
// named by file and line (never its content), and the next lines still
// come; the loop sees no error at all.
func TestExportFileBadLines(t *testing.T) {
	srv, m := linesServer(t, badLinesBody)
	var bad []*fhir.ExportLineError
	o := []fhir.ExportOption{fhir.ExportMaxLine(200), fhir.ExportBadLine(func(le *fhir.ExportLineError) { bad = append(bad, le) })}
	var ids []string
	for p, err := range fhir.ExportFile[models.Patient](ctx(t), srv.conn(t, nil), m, m.Output[0], o...) {
		require.NoError(t, err, "a bad line never reaches the loop")
		ids = append(ids, *p.Id)
	}
	assert.Equal(t, []string{"a", "c"}, ids)
	var lines []int
	for _, le := range bad {
		lines = append(lines, le.Line)
		assert.Equal(t, "ehr", le.Conn)
		for _, secret := range []string{"SECRET", "Patient\",\"id"} {
			assert.NotContains(t, le.Error(), secret)
		}
		assert.Contains(t, le.Error(), fmt.Sprintf("/files/f.ndjson?sig=[redacted] line %d", le.Line))
		if le.Line == 6 {
			assert.ErrorIs(t, le, fhir.ErrBodyTooLarge)
		} else {
			var de *fhir.DecodeError
			assert.ErrorAs(t, le, &de)
		}
	}
	assert.Equal(t, []int{2, 4, 5, 6}, lines, "line 3 is blank")
}

// Without BadLine a bad line is the end, as any error in the loop is:
// nothing follows it, so a loop that returns on an error is right.
func TestExportFileBadLineEndsTheLoopWithoutBadLine(t *testing.T) {
	srv, m := linesServer(t, badLinesBody)
	var ids []string
	var errs []error
	for p, err := range fhir.ExportFile[models.Patient](ctx(t), srv.conn(t, nil), m, m.Output[0], fhir.ExportMaxLine(200)) {
		if err != nil {
			errs = append(errs, err)
			continue // to see that nothing follows
		}
		ids = append(ids, *p.Id)
	}
	assert.Equal(t, []string{"a"}, ids, "nothing after the bad line")
	require.Len(t, errs, 1)
	var le *fhir.ExportLineError
	require.ErrorAs(t, errs[0], &le)
	assert.Equal(t, 2, le.Line)
	assert.NotContains(t, errs[0].Error(), "SECRET")
}

// A failure is never taken for a bad line: with BadLine set, a download
// that fails after bad lines reaches the loop as the failure it is (not an
// ExportLineError), and ends it — the loop that returns on an error
// reports it instead of a shorter file.
func TestExportFileFailureIsNotABadLine(t *testing.T) {
	lines := `{"resourceType":"Patient","id":"a"}` + "\n" + `{"resourceType":"Patient","id":"SECRET-1",` + "\n" + `{"resourceType":"Patient","id":"b"}` + "\n"
	srv, m := filesScript(t, cutAfter(lines), answer(500, map[string]string{"Content-Type": "application/fhir+json"}, outcomeBody("exception")))
	var bad []int
	o := []fhir.ExportOption{fhir.ExportRetries(1), fhir.ExportSleep(noSleep), fhir.ExportBadLine(func(le *fhir.ExportLineError) { bad = append(bad, le.Line) })}
	var ids []string
	err := func() error { // the obvious loop
		for p, err := range fhir.ExportFile[models.Patient](ctx(t), srv.conn(t, nil), m, m.Output[0], o...) {
			if err != nil {
				return err
			}
			ids = append(ids, *p.Id)
		}
		return nil
	}()
	assert.Equal(t, []string{"a", "b"}, ids)
	assert.Equal(t, []int{2}, bad)
	require.Error(t, err, "the failed resume is not a shorter file")
	var le *fhir.ExportLineError
	assert.False(t, errors.As(err, &le), "a failure is no bad line: %v", err)
	assert.ErrorIs(t, err, rest.ErrServerError)
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 500, fe.StatusCode)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Len(t, srv.received(), 2, "the download and one resume")
}

// Lines longer than the read buffer are assembled; too long ones are bad
// lines.
func TestExportFileLongLines(t *testing.T) {
	line := func(id string, n int) string {
		return `{"resourceType":"Patient","id":"` + id + `","name":[{"text":"` + strings.Repeat("x", n) + `"}]}`
	}
	srv, m := linesServer(t, strings.Join([]string{line("a", 10), line("b", 100<<10), line("c", 200<<10), line("d", 10)}, "\n")+"\n")
	var bad []*fhir.ExportLineError
	o := []fhir.ExportOption{fhir.ExportMaxLine(150 << 10), fhir.ExportBadLine(func(le *fhir.ExportLineError) { bad = append(bad, le) })}
	var ids []string
	for p, err := range fhir.ExportFile[models.Patient](ctx(t), srv.conn(t, nil), m, m.Output[0], o...) {
		require.NoError(t, err)
		ids = append(ids, *p.Id)
	}
	assert.Equal(t, []string{"a", "b", "d"}, ids)
	require.Len(t, bad, 1)
	assert.ErrorIs(t, bad[0], fhir.ErrBodyTooLarge)
	assert.Equal(t, 3, bad[0].Line)

	var raw []string
	for l, err := range srv.conn(t, nil).ExportLines(ctx(t), m, m.Output[0], fhir.ExportMaxLine(150<<10)) {
		if err != nil {
			assert.ErrorIs(t, err, fhir.ErrBodyTooLarge, "ExportLines without BadLine ends at the long line")
			break
		}
		raw = append(raw, string(l[:20]))
	}
	assert.Len(t, raw, 2)
}

func TestExportLinesAndIssues(t *testing.T) {
	srv, m := linesServer(t, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Patient/9 is gone"},`+
		`{"severity":"warning","code":"processing","details":{"text":"partial"},"expression":["Observation.code"]}]}`+"\n"+
		"not json\n"+
		`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"too-costly"}]}`+"\n")
	conn := srv.conn(t, nil)
	var lines []string
	for l, err := range conn.ExportLines(ctx(t), m, m.Output[0]) {
		require.NoError(t, err)
		lines = append(lines, string(l))
	}
	assert.Len(t, lines, 3)
	assert.Equal(t, "not json", lines[1])

	var got []fhir.ExportIssue
	var bad []int
	o := []fhir.ExportOption{fhir.ExportBadLine(func(le *fhir.ExportLineError) { bad = append(bad, le.Line) })}
	for is, err := range conn.ExportIssues(ctx(t), m, m.Output[0], o...) {
		require.NoError(t, err)
		got = append(got, is)
	}
	assert.Equal(t, []int{2}, bad)
	require.Len(t, got, 3)
	assert.Equal(t, fhir.Issue{Severity: "error", Code: "not-found", Diagnostics: "Patient/9 is gone"}, got[0].Issue)
	assert.Equal(t, fhir.Issue{Severity: "warning", Code: "processing", Diagnostics: "partial", Expression: []string{"Observation.code"}}, got[1].Issue)
	assert.Equal(t, []int{1, 1, 3}, []int{got[0].Line, got[1].Line, got[2].Line})
	require.NotNil(t, got[0].Outcome)
	assert.Same(t, got[0].Outcome, got[1].Outcome)
	assert.Len(t, got[0].Outcome.Issue, 2)

	got = nil
	var errs []error
	for is, err := range conn.ExportIssues(ctx(t), m, m.Output[0]) {
		if err != nil {
			errs = append(errs, err)
			continue // to see that nothing follows
		}
		got = append(got, is)
	}
	assert.Len(t, got, 2, "the issues of line 1, then the end")
	require.Len(t, errs, 1)
	var le *fhir.ExportLineError
	require.ErrorAs(t, errs[0], &le)
	assert.Equal(t, 2, le.Line)
}

// The token goes with a file only when the manifest requires it, and only
// to the base URL's origin; a file elsewhere that needs it is refused
// before anything is sent.
func TestExportFileAccessToken(t *testing.T) {
	const token = "TOKEN-123456"
	for _, tc := range []struct {
		name                string
		requires, elsewhere bool
		wantAuth            string
	}{
		{"not required", false, false, ""},
		{"required", true, false, "Bearer " + token},
		{"not required, other origin", false, true, ""},
		{"required, other origin: refused", true, true, "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home, _ := linesServer(t, `{"resourceType":"Patient","id":"a"}`)
			other, _ := linesServer(t, `{"resourceType":"Patient","id":"a"}`)
			conn := home.conn(t, &recordingDoer{next: home.Client(), token: token})
			files := home
			if tc.elsewhere {
				files = other
			}
			m := &fhir.Manifest{RequiresAccessToken: tc.requires,
				Output: []fhir.OutputFile{{Type: "Patient", URL: files.URL + "/files/p.ndjson"}}}
			var errs []error
			for _, err := range fhir.ExportFile[models.Patient](ctx(t), conn, m, m.Output[0]) {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1)
			if tc.wantAuth == "-" {
				assert.ErrorIs(t, errs[0], fhir.ErrCrossOrigin)
				assert.NotContains(t, errs[0].Error(), token)
				assert.Empty(t, other.received(), "nothing sent to the other origin")
				return
			}
			require.NoError(t, errs[0])
			got := files.received()
			require.Len(t, got, 1)
			assert.Equal(t, tc.wantAuth, got[0].header.Get("Authorization"))
			assert.Equal(t, "application/fhir+ndjson", got[0].header.Get("Accept"))
		})
	}
	t.Run("ExportFileClient", func(t *testing.T) {
		srv, m := linesServer(t, `{"resourceType":"Patient","id":"a"}`)
		mine := &recordingDoer{next: srv.Client()}
		client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) { return mine.Do(r) })}
		for _, err := range fhir.ExportFile[models.Patient](ctx(t), srv.conn(t, nil), m, m.Output[0], fhir.ExportFileClient(client)) {
			require.NoError(t, err)
		}
		assert.Len(t, mine.to("/files/"), 1)
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestExportFileURLsChecked(t *testing.T) {
	conn, err := fhir.New("ehr", "https://ehr.example/fhir", http.DefaultClient)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		m    *fhir.Manifest
		url  string
	}{
		{"not http", &fhir.Manifest{}, "ftp://ehr.example/f.ndjson"},
		{"relative", &fhir.Manifest{}, "/files/f.ndjson"},
		{"plain http from an https server", &fhir.Manifest{}, "http://files.example/f.ndjson"},
		{"no manifest", nil, "https://ehr.example/f.ndjson"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, err := range conn.ExportResources(ctx(t), tc.m, fhir.OutputFile{URL: tc.url}) {
				assert.ErrorContains(t, err, "ehr")
			}
		})
	}
}

// filesScript serves /files/f.ndjson with the answers in turn.
func filesScript(t *testing.T, answers ...func(w http.ResponseWriter)) (*scripted, *fhir.Manifest) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := newScripted(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		i := min(n, len(answers)-1)
		n++
		mu.Unlock()
		answers[i](w)
	})
	return srv, &fhir.Manifest{Output: []fhir.OutputFile{{Type: "Patient", URL: srv.URL + "/files/f.ndjson?sig=SECRET-SIG"}}}
}

func TestExportFileRetries(t *testing.T) {
	two := `{"resourceType":"Patient","id":"a"}` + "\n" + `{"resourceType":"Patient","id":"b"}` + "\n"
	t.Run("429 and 5xx are retried", func(t *testing.T) {
		srv, m := filesScript(t, answer(503, map[string]string{"Retry-After": "4"}, ""), answer(502, nil, ""), answer(200, nil, two))
		sl := &sleeper{}
		n := 0
		for _, err := range srv.conn(t, nil).ExportResources(ctx(t), m, m.Output[0], fhir.ExportSleep(sl.sleep)) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 2, n)
		waits := sl.all()
		require.Len(t, waits, 2)
		assert.Equal(t, 4*time.Second, waits[0], "Retry-After")
	})
	t.Run("a 404 is final", func(t *testing.T) {
		srv, m := filesScript(t, answer(404, map[string]string{"Content-Type": "application/fhir+json"}, outcomeBody("not-found")))
		sl := &sleeper{}
		var errs []error
		for _, err := range srv.conn(t, nil).ExportResources(ctx(t), m, m.Output[0], fhir.ExportSleep(sl.sleep)) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], rest.ErrNotFound)
		var fe *fhir.Error
		require.ErrorAs(t, errs[0], &fe)
		assert.Equal(t, "not-found", fe.Issues[0].Code)
		assert.NotContains(t, errs[0].Error(), "SECRET-SIG")
		assert.Empty(t, sl.all())
		assert.Len(t, srv.received(), 1)
	})
	t.Run("retries run out", func(t *testing.T) {
		srv, m := filesScript(t, answer(503, nil, ""))
		sl := &sleeper{}
		for _, err := range srv.conn(t, nil).ExportResources(ctx(t), m, m.Output[0], fhir.ExportSleep(sl.sleep), fhir.ExportRetries(3)) {
			assert.ErrorIs(t, err, rest.ErrServerError)
		}
		assert.Len(t, srv.received(), 4)
	})
	t.Run("ExportRetries(0) retries nothing", func(t *testing.T) {
		srv, m := filesScript(t, answer(503, nil, ""), answer(200, nil, two))
		sl := &sleeper{}
		var errs []error
		for _, err := range srv.conn(t, nil).ExportResources(ctx(t), m, m.Output[0], fhir.ExportSleep(sl.sleep), fhir.ExportRetries(0)) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], rest.ErrServerError)
		assert.Empty(t, sl.all())
		assert.Len(t, srv.received(), 1)
	})
}

// cutAfter sends body but announces more: the client sees the body cut
// short after its last line.
func cutAfter(body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)+10))
		fmt.Fprint(w, body)
	}
}

func TestExportFileResumeEdges(t *testing.T) {
	two := `{"resourceType":"Patient","id":"a"}` + "\n" + `{"resourceType":"Patient","id":"b"}` + "\n"
	t.Run("cut after the last line, then 416", func(t *testing.T) {
		srv, m := filesScript(t, cutAfter(two),
			answer(http.StatusRequestedRangeNotSatisfiable, map[string]string{"Content-Range": fmt.Sprintf("bytes */%d", len(two))}, ""))
		n := 0
		for _, err := range srv.conn(t, nil).ExportResources(ctx(t), m, m.Output[0], fhir.ExportSleep(noSleep)) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 2, n)
		got := srv.received()
		require.Len(t, got, 2)
		assert.Equal(t, fmt.Sprintf("bytes=%d-", len(two)), got[1].header.Get("Range"))
	})
	t.Run("206 from the wrong byte", func(t *testing.T) {
		srv, m := filesScript(t, cutAfter(two),
			answer(http.StatusPartialContent, map[string]string{"Content-Range": "bytes 0-9/99"}, "0123456789"))
		var errs []error
		for _, err := range srv.conn(t, nil).ExportResources(ctx(t), m, m.Output[0], fhir.ExportSleep(noSleep)) {
			if err != nil {
				errs = append(errs, err)
			}
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], fhir.ErrBulkProtocol)
	})
}

func TestExportContextCancelledMidDownload(t *testing.T) {
	srv, conn := setup(t)
	seedBulk(t, srv, 30)
	m := exported(t, conn)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	var ids []string
	var errs []error
	for p, err := range fhir.ExportFile[models.Patient](c, conn, m, file(t, m, "Patient")) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ids = append(ids, *p.Id); len(ids) == 2 {
			cancel()
		}
	}
	assert.Len(t, ids, 2)
	require.Len(t, errs, 1, "the iteration ends")
	assert.ErrorIs(t, errs[0], context.Canceled)
	assert.Contains(t, errs[0].Error(), "ehr")
}

// ndjsonPatients is an NDJSON file of n Patients.
func ndjsonPatients(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"resourceType":"Patient","id":"p%d","meta":{"versionId":"1","lastUpdated":"2026-01-02T03:04:05.000Z"},`+
			`"identifier":[{"system":"urn:example:mrn","value":"MRN-%08d"}],"name":[{"family":"Family%d","given":["Given","Middle"]}],`+
			`"gender":"female","birthDate":"1970-01-01","address":[{"line":["1 Main Street"],"city":"Springfield","postalCode":"12345"}]}`+"\n", i, i, i)
	}
	return b.Bytes()
}

// peakHeap runs fn, which calls sample now and then, and returns the
// largest growth of the live heap seen at a sample.
func peakHeap(fn func(sample func())) float64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	fn(func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > base {
			peak = max(peak, ms.HeapAlloc-base)
		}
	})
	return float64(peak) / (1 << 20)
}

// BenchmarkExportStream streams an NDJSON file of Patients (10,000 lines
// is a hundred searchset pages of 100) with ExportFile, beside the peer
// that reads the whole body before decoding it. peak-heap-MB is the
// largest growth of the live heap during one pass: constant for the
// stream, the size of the file for the peer.
func BenchmarkExportStream(b *testing.B) {
	for _, lines := range []int{10_000, 40_000} {
		data := ndjsonPatients(lines)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
		}))
		conn, err := fhir.New("ehr", srv.URL+"/fhir", srv.Client())
		require.NoError(b, err)
		m := &fhir.Manifest{Output: []fhir.OutputFile{{Type: "Patient", URL: srv.URL + "/files/p.ndjson"}}}
		ctx := context.Background()
		stream := func(sample func()) {
			n := 0
			for _, err := range fhir.ExportFile[models.Patient](ctx, conn, m, m.Output[0], fhir.ExportFileClient(srv.Client())) {
				if err != nil {
					b.Fatal(err)
				}
				if n++; n%1000 == 0 {
					sample()
				}
			}
		}
		readAll := func(sample func()) {
			resp, err := srv.Client().Get(m.Output[0].URL)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			for i, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
				if _, err := fhir.Decode[models.Patient](line); err != nil {
					b.Fatal(err)
				}
				if (i+1)%1000 == 0 {
					sample()
				}
			}
		}
		for _, bc := range []struct {
			name string
			run  func(func())
		}{{"stream", stream}, {"readall", readAll}} {
			b.Run(fmt.Sprintf("%s/lines=%d", bc.name, lines), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					bc.run(func() {})
				}
				b.ReportMetric(peakHeap(bc.run), "peak-heap-MB")
			})
		}
		srv.Close()
	}
}

// A server that sends without end cannot keep the loop from its consumer:
// a run of blank lines is bounded by ExportMaxLine, a line without end by
// twice that, and either ends the file with an error.
func TestExportFileEndlessInput(t *testing.T) {
	for name, tc := range map[string]struct{ chunk, want string }{
		"empty lines":         {"\n", "more than 1048576 bytes of blank lines from line 2"},
		"white space":         {" \t\r\n", "more than 1048576 bytes of blank lines from line 2"},
		"a line without end":  {"x", "line 2: more than 2097152 bytes without a line end"},
		"white space, no end": {" ", "line 2: more than 2097152 bytes without a line end"},
	} {
		t.Run(name, func(t *testing.T) {
			var sent atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+ndjson")
				io.WriteString(w, `{"resourceType":"Patient","id":"a"}`+"\n")
				chunk := []byte(strings.Repeat(tc.chunk, 16<<10/len(tc.chunk)))
				for r.Context().Err() == nil { // without end, until the client goes
					n, err := w.Write(chunk)
					sent.Add(int64(n))
					if err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			conn, err := fhir.New("ehr", srv.URL+"/fhir", srv.Client())
			require.NoError(t, err)
			m := &fhir.Manifest{Output: []fhir.OutputFile{{Type: "Patient", URL: srv.URL + "/files/p.ndjson?sig=SECRET-SIG"}}}

			// The deadline only keeps a failing test from running for ever.
			c, cancel := context.WithTimeout(ctx(t), time.Minute)
			defer cancel()
			var ids []string
			var errs []error
			for p, err := range fhir.ExportFile[models.Patient](c, conn, m, m.Output[0], fhir.ExportMaxLine(1<<20), fhir.ExportFileClient(srv.Client())) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				ids = append(ids, *p.Id)
			}
			assert.Equal(t, []string{"a"}, ids)
			require.Len(t, errs, 1, "the bound ends the file")
			assert.ErrorIs(t, errs[0], fhir.ErrBulkProtocol)
			assert.NotErrorIs(t, errs[0], context.DeadlineExceeded)
			assert.Contains(t, errs[0].Error(), tc.want)
			assert.NotContains(t, errs[0].Error(), "SECRET-SIG")
			assert.NoError(t, c.Err(), "ended by the bound, not the deadline")
			assert.Less(t, sent.Load(), int64(64<<20), "read about the bound, not much more")
		})
	}
}
