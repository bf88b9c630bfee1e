package fhir_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

// sleeper records the waits asked for and returns at once: no test waits.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleeper) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// sent is what a scripted server received.
type sent struct {
	method, path string
	query        url.Values
	header       http.Header
}

// scripted is a server whose answers a test writes; it records every
// request.
type scripted struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []sent
}

func newScripted(t *testing.T, handle http.HandlerFunc) *scripted {
	t.Helper()
	s := &scripted{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, sent{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone()})
		s.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) received() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sent(nil), s.reqs...)
}

// conn is a connection to the server's /fhir through doer (its client
// when nil).
func (s *scripted) conn(t *testing.T, doer fhir.Doer) *fhir.Conn {
	t.Helper()
	if doer == nil {
		doer = s.Client()
	}
	c, err := fhir.New("ehr", s.URL+"/fhir", doer)
	require.NoError(t, err)
	return c
}

// accepted answers a kick-off with 202 and the status URL /fhir/status.
func accepted(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Location", "/fhir/status")
	w.WriteHeader(http.StatusAccepted)
}

// seedBulk stores n Patients and two Observations for each.
func seedBulk(t testing.TB, srv *fhirtest.Server, n int) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("p%d", i)
		_, err := srv.Seed(
			fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":"Fam%d"}]}`, id, i),
			fmt.Sprintf(`{"resourceType":"Observation","id":"%s-a","status":"final","code":{"text":"a"},"subject":{"reference":"Patient/%s"}}`, id, id),
			fmt.Sprintf(`{"resourceType":"Observation","id":"%s-b","status":"final","code":{"text":"b"},"subject":{"reference":"Patient/%s"}}`, id, id))
		require.NoError(t, err)
	}
}

func file(t *testing.T, m *fhir.Manifest, typ string) fhir.OutputFile {
	t.Helper()
	for _, f := range m.Output {
		if f.Type == typ {
			return f
		}
	}
	require.Failf(t, "no output file", "type %s in %+v", typ, m.Output)
	return fhir.OutputFile{}
}

func TestExportSystemLevel(t *testing.T) {
	srv, conn := setup(t, fhirtest.WithExportPolls(2))
	seedBulk(t, srv, 3)
	sl := &sleeper{}
	var progress []fhir.ExportStatus
	x, err := conn.Export(ctx(t), fhir.ExportSleep(sl.sleep), fhir.ExportProgress(func(s fhir.ExportStatus) { progress = append(progress, s) }))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(x.StatusURL(), srv.URL+"/"), x.StatusURL())

	m, err := x.Wait(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, time.Second}, sl.all(), "Retry-After: 1, twice")
	require.Len(t, progress, 3)
	assert.Equal(t, []int{202, 202, 200}, []int{progress[0].StatusCode, progress[1].StatusCode, progress[2].StatusCode})
	assert.Equal(t, "0% done", progress[0].Progress)
	assert.Equal(t, "33% done", progress[1].Progress)
	assert.Equal(t, time.Second, progress[0].RetryAfter)
	assert.Same(t, m, progress[2].Manifest)

	assert.False(t, m.RequiresAccessToken, "the server checks no token")
	assert.False(t, m.TransactionTime.IsZero())
	assert.Contains(t, m.Request, "/$export?_outputFormat=")
	require.Len(t, m.Output, 2)
	assert.Equal(t, "Observation", m.Output[0].Type)
	assert.Equal(t, 6, m.Output[0].Count)
	assert.Equal(t, 3, m.Output[1].Count)

	var ids []string
	for p, err := range fhir.ExportFile[models.Patient](ctx(t), conn, m, file(t, m, "Patient")) {
		require.NoError(t, err)
		ids = append(ids, *p.Id)
	}
	assert.Equal(t, []string{"p0", "p1", "p2"}, ids)
	n := 0
	for r, err := range conn.ExportResources(ctx(t), m, file(t, m, "Observation")) {
		require.NoError(t, err)
		assert.IsType(t, &models.Observation{}, r)
		n++
	}
	assert.Equal(t, 6, n)
}

func TestExportKickOffRequest(t *testing.T) {
	since := time.Date(2026, 1, 2, 5, 4, 5, 0, time.FixedZone("CEST", 2*3600))
	for _, tc := range []struct {
		name, path string
		start      func(*fhir.Conn, context.Context, ...fhir.ExportOption) (*fhir.Export, error)
	}{
		{"system", "/fhir/$export", (*fhir.Conn).Export},
		{"patient", "/fhir/Patient/$export", (*fhir.Conn).ExportPatients},
		{"group", "/fhir/Group/g-1/$export", func(c *fhir.Conn, ctx context.Context, o ...fhir.ExportOption) (*fhir.Export, error) {
			return c.ExportGroup(ctx, "g-1", o...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, accepted)
			x, err := tc.start(srv.conn(t, nil), ctx(t), fhir.ExportTypes("Patient"), fhir.ExportTypes("Observation"), fhir.ExportSince(since),
				fhir.ExportParam("_typeFilter", "Observation?code=8867-4"), fhir.ExportParam("_elements", "id"),
				fhir.ExportParam("_typeFilter", "Patient?active=true"))
			require.NoError(t, err)
			assert.Equal(t, srv.URL+"/fhir/status", x.StatusURL(), "a relative Content-Location is resolved")

			req := srv.received()[0]
			assert.Equal(t, http.MethodGet, req.method)
			assert.Equal(t, tc.path, req.path)
			assert.Equal(t, "application/fhir+json", req.header.Get("Accept"))
			assert.Equal(t, "respond-async", req.header.Get("Prefer"))
			assert.Equal(t, url.Values{"_type": {"Patient,Observation"}, "_since": {"2026-01-02T03:04:05.000Z"},
				"_typeFilter": {"Observation?code=8867-4", "Patient?active=true"}, "_outputFormat": {"application/fhir+ndjson"},
				"_elements": {"id"}}, req.query)
		})
	}
}

func TestExportOutputFormat(t *testing.T) {
	srv := newScripted(t, accepted)
	_, err := srv.conn(t, nil).Export(ctx(t), fhir.ExportParam("_outputFormat", "application/ndjson"))
	require.NoError(t, err)
	assert.Equal(t, url.Values{"_outputFormat": {"application/ndjson"}}, srv.received()[0].query)
}

func TestExportKickOffFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle http.HandlerFunc
		check  func(t *testing.T, err error)
	}{
		{"4xx with an OperationOutcome", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported","diagnostics":"_typeFilter is not supported"}]}`)
		}, func(t *testing.T, err error) {
			var fe *fhir.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, http.StatusBadRequest, fe.StatusCode)
			require.Len(t, fe.Issues, 1)
			assert.Equal(t, "not-supported", fe.Issues[0].Code)
			assert.ErrorIs(t, err, rest.ErrBadRequest)
		}},
		{"answered synchronously", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, `{"resourceType":"Bundle"}`)
		}, func(t *testing.T, err error) {
			var fe *fhir.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, http.StatusOK, fe.StatusCode)
			assert.ErrorIs(t, err, fhir.ErrBulkProtocol)
		}},
		{"no Content-Location", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) },
			func(t *testing.T, err error) { assert.ErrorIs(t, err, fhir.ErrBulkProtocol) }},
		{"status URL on another origin", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Location", "https://elsewhere.example/status/1")
			w.WriteHeader(http.StatusAccepted)
		}, func(t *testing.T, err error) { assert.ErrorIs(t, err, fhir.ErrCrossOrigin) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, tc.handle)
			_, err := srv.conn(t, nil).Export(ctx(t), fhir.ExportParam("_typeFilter", "Patient?identifier=123-45-6789"))
			require.Error(t, err)
			tc.check(t, err)
			assert.Contains(t, err.Error(), "ehr", "the error names the connection")
			assert.NotContains(t, err.Error(), "123-45-6789", "no query value in errors")
		})
	}
	t.Run("bad arguments", func(t *testing.T) {
		conn := newScripted(t, accepted).conn(t, nil)
		_, err := conn.ExportGroup(ctx(t), "../x")
		assert.ErrorContains(t, err, "ehr")
		_, err = conn.Export(ctx(t), fhir.ExportTypes("Pat/ient"))
		assert.ErrorContains(t, err, "ehr")
	})
}

// statusScript answers kick-off with 202 and the polls of /fhir/status
// with the answers in turn.
func statusScript(t *testing.T, answers ...func(w http.ResponseWriter)) *scripted {
	t.Helper()
	var mu sync.Mutex
	n := 0
	return newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/status" {
			accepted(w, r)
			return
		}
		mu.Lock()
		i := min(n, len(answers)-1)
		n++
		mu.Unlock()
		answers[i](w)
	})
}

func answer(status int, header map[string]string, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const manifestJSON = `{"transactionTime":"2026-03-04T05:06:07.890+02:00","request":"https://ehr.example/fhir/$export?_type=Patient",
 "requiresAccessToken":true,
 "output":[{"type":"Patient","url":"https://ehr.example/files/p1.ndjson","count":10},{"type":"Patient","url":"https://ehr.example/files/p2.ndjson"}],
 "error":[{"type":"OperationOutcome","url":"https://ehr.example/files/err.ndjson"}],
 "deleted":[{"type":"Bundle","url":"https://ehr.example/files/del.ndjson","count":1}],
 "extension":{"https://example.com/extra":true}}`

func outcomeBody(code string) string {
	return `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"` + code + `","diagnostics":"busy"}]}`
}

// The waits between polls are the server's Retry-After (seconds or an HTTP
// date), held within the bounds, or the default; X-Progress is reported.
func TestExportPollingHonoursRetryAfter(t *testing.T) {
	clock := newClock()
	srv := statusScript(t,
		answer(202, map[string]string{"Retry-After": "5", "X-Progress": "10% (Patient)"}, ""),
		answer(202, map[string]string{"Retry-After": clock.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat),
			"Date": clock.Now().UTC().Format(http.TimeFormat)}, ""), // read against the server's clock
		answer(202, map[string]string{"Retry-After": "3600"}, ""),
		answer(202, nil, ""),
		answer(429, map[string]string{"Retry-After": "7"}, outcomeBody("throttled")),
		answer(503, map[string]string{"Retry-After": "0"}, ""),
		answer(500, map[string]string{"Retry-After": "3"}, outcomeBody("transient")),
		answer(200, map[string]string{"Content-Type": "application/json"}, manifestJSON),
	)
	sl := &sleeper{}
	var seen []fhir.ExportStatus
	x, err := srv.conn(t, nil).Export(ctx(t), fhir.ExportSleep(sl.sleep), fhir.ExportProgress(func(s fhir.ExportStatus) { seen = append(seen, s) }))
	require.NoError(t, err)
	m, err := x.Wait(ctx(t))
	require.NoError(t, err)

	assert.Equal(t, []time.Duration{5 * time.Second, 30 * time.Second, time.Minute, 2 * time.Second,
		7 * time.Second, time.Second, 3 * time.Second}, sl.all())
	require.Len(t, seen, 8)
	assert.Equal(t, "10% (Patient)", seen[0].Progress)
	assert.Equal(t, time.Hour, seen[2].RetryAfter, "asked for")
	assert.Equal(t, time.Minute, seen[2].Wait, "taken")
	assert.Equal(t, 429, seen[4].StatusCode)
	assert.Equal(t, "throttled", seen[4].Issues[0].Code)
	assert.Equal(t, 200, seen[7].StatusCode)
	assert.NotNil(t, m)
}

func TestExportPollingBounds(t *testing.T) {
	srv := statusScript(t,
		answer(202, map[string]string{"Retry-After": "1"}, ""),
		answer(202, map[string]string{"Retry-After": "120"}, ""),
		answer(202, nil, ""),
		answer(200, nil, manifestJSON))
	sl := &sleeper{}
	x, err := srv.conn(t, nil).Export(ctx(t), fhir.ExportSleep(sl.sleep), fhir.ExportPolling(10*time.Second, 5*time.Second, 90*time.Second))
	require.NoError(t, err)
	_, err = x.Wait(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{5 * time.Second, 90 * time.Second, 10 * time.Second}, sl.all())
}

// ExportPolling keeps the default of a zero or negative duration, and
// raises a maxWait below minWait to it.
func TestExportPollingDefaults(t *testing.T) {
	for name, tc := range map[string]struct {
		opts []fhir.ExportOption
		want []time.Duration // Retry-After 0, Retry-After 120, none
	}{
		"no option":              {nil, []time.Duration{time.Second, time.Minute, 2 * time.Second}},
		"zeros are the defaults": {[]fhir.ExportOption{fhir.ExportPolling(0, 0, 0)}, []time.Duration{time.Second, time.Minute, 2 * time.Second}},
		"negatives are the defaults": {[]fhir.ExportOption{fhir.ExportPolling(-time.Second, -time.Second, -time.Second)},
			[]time.Duration{time.Second, time.Minute, 2 * time.Second}},
		"maxWait below minWait": {[]fhir.ExportOption{fhir.ExportPolling(3*time.Second, 8*time.Second, 4*time.Second)}, []time.Duration{8 * time.Second, 8 * time.Second, 3 * time.Second}},
		"the last option wins":  {[]fhir.ExportOption{fhir.ExportPolling(time.Hour, time.Hour, time.Hour), fhir.ExportPolling(3*time.Second, 0, 0)}, []time.Duration{time.Second, time.Minute, 3 * time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := statusScript(t,
				answer(202, map[string]string{"Retry-After": "0"}, ""),
				answer(202, map[string]string{"Retry-After": "120"}, ""),
				answer(202, nil, ""),
				answer(200, nil, manifestJSON))
			sl := &sleeper{}
			x, err := srv.conn(t, nil).Export(ctx(t), append(tc.opts, fhir.ExportSleep(sl.sleep))...)
			require.NoError(t, err)
			_, err = x.Wait(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, tc.want, sl.all())
		})
	}
}

func TestExportManifestDecode(t *testing.T) {
	srv := statusScript(t, answer(200, map[string]string{"Content-Type": "application/json"}, manifestJSON))
	x, err := srv.conn(t, nil).Export(ctx(t))
	require.NoError(t, err)
	st, err := x.Poll(ctx(t))
	require.NoError(t, err)
	m := st.Manifest
	require.NotNil(t, m)
	assert.True(t, m.TransactionTime.Equal(time.Date(2026, 3, 4, 3, 6, 7, 890e6, time.UTC)))
	assert.Equal(t, "https://ehr.example/fhir/$export?_type=Patient", m.Request)
	assert.True(t, m.RequiresAccessToken)
	assert.Equal(t, []fhir.OutputFile{{Type: "Patient", URL: "https://ehr.example/files/p1.ndjson", Count: 10},
		{Type: "Patient", URL: "https://ehr.example/files/p2.ndjson"}}, m.Output)
	assert.Equal(t, []fhir.OutputFile{{Type: "OperationOutcome", URL: "https://ehr.example/files/err.ndjson"}}, m.Error)
	assert.Equal(t, []fhir.OutputFile{{Type: "Bundle", URL: "https://ehr.example/files/del.ndjson", Count: 1}}, m.Deleted)
	assert.JSONEq(t, `{"https://example.com/extra":true}`, string(m.Extension))

	for _, bad := range []string{`{"output":[{"type":"Patient"}]}`, `<html>`, `{"transactionTime":"yesterday"}`} {
		srv := statusScript(t, answer(200, nil, bad))
		x, err := srv.conn(t, nil).Export(ctx(t))
		require.NoError(t, err)
		_, err = x.Poll(ctx(t))
		assert.ErrorIs(t, err, fhir.ErrBulkProtocol, bad)
	}
}

func TestExportPollFailures(t *testing.T) {
	t.Run("transient failures are retried with backoff", func(t *testing.T) {
		srv := statusScript(t, answer(503, nil, ""), answer(502, nil, ""), answer(200, nil, manifestJSON))
		sl := &sleeper{}
		x, err := srv.conn(t, nil).Export(ctx(t), fhir.ExportSleep(sl.sleep))
		require.NoError(t, err)
		_, err = x.Wait(ctx(t))
		require.NoError(t, err)
		assert.Len(t, sl.all(), 2)
	})
	t.Run("up to ExportRetries in a row", func(t *testing.T) {
		srv := statusScript(t, answer(503, nil, outcomeBody("transient")))
		sl := &sleeper{}
		x, err := srv.conn(t, nil).Export(ctx(t), fhir.ExportSleep(sl.sleep), fhir.ExportRetries(2))
		require.NoError(t, err)
		_, err = x.Wait(ctx(t))
		assert.ErrorIs(t, err, rest.ErrServerError)
		assert.Len(t, sl.all(), 2)
		assert.Len(t, srv.received(), 1+3, "kick-off and three polls")
	})
	t.Run("ExportRetries: 5 by default, explicit 0 is none", func(t *testing.T) {
		for name, tc := range map[string]struct {
			opts  []fhir.ExportOption
			polls int
		}{
			"default":          {nil, 1 + 5},
			"ExportRetries(1)": {[]fhir.ExportOption{fhir.ExportRetries(1)}, 1 + 1},
			"ExportRetries(0)": {[]fhir.ExportOption{fhir.ExportRetries(0)}, 1},
			"negative":         {[]fhir.ExportOption{fhir.ExportRetries(-3)}, 1},
			"the last wins":    {[]fhir.ExportOption{fhir.ExportRetries(0), fhir.ExportRetries(2)}, 1 + 2},
		} {
			t.Run(name, func(t *testing.T) {
				srv := statusScript(t, answer(503, nil, ""))
				sl := &sleeper{}
				x, err := srv.conn(t, nil).Export(ctx(t), append(tc.opts, fhir.ExportSleep(sl.sleep))...)
				require.NoError(t, err)
				_, err = x.Wait(ctx(t))
				assert.ErrorIs(t, err, rest.ErrServerError)
				assert.Len(t, srv.received(), 1+tc.polls, "kick-off and polls")
				assert.Len(t, sl.all(), tc.polls-1)
			})
		}
	})
	t.Run("a final error status is not retried", func(t *testing.T) {
		srv := statusScript(t, answer(500, map[string]string{"Content-Type": "application/fhir+json"}, outcomeBody("processing")))
		sl := &sleeper{}
		x, err := srv.conn(t, nil).Export(ctx(t), fhir.ExportSleep(sl.sleep))
		require.NoError(t, err)
		_, err = x.Wait(ctx(t))
		var fe *fhir.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "processing", fe.Issues[0].Code)
		assert.Empty(t, sl.all())
	})
}

func TestExportCancel(t *testing.T) {
	srv, conn := setup(t, fhirtest.WithExportPolls(5))
	seedBulk(t, srv, 1)
	x, err := conn.Export(ctx(t))
	require.NoError(t, err)
	st, err := x.Poll(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, st.StatusCode)
	assert.Nil(t, st.Manifest)

	require.NoError(t, x.Cancel(ctx(t)))
	rel := strings.TrimPrefix(x.StatusURL(), srv.URL+"/")
	assert.Equal(t, 1, srv.Hits(http.MethodDelete, rel))
	_, err = x.Poll(ctx(t))
	assert.ErrorIs(t, err, rest.ErrNotFound, "a cancelled export is gone")
	assert.ErrorIs(t, x.Cancel(ctx(t)), rest.ErrNotFound)
}

func TestResumeExport(t *testing.T) {
	srv, conn := setup(t, fhirtest.WithExportPolls(0))
	seedBulk(t, srv, 2)
	x, err := conn.Export(ctx(t))
	require.NoError(t, err)

	later, err := conn.ResumeExport(x.StatusURL())
	require.NoError(t, err)
	m, err := later.Wait(ctx(t))
	require.NoError(t, err)
	assert.Len(t, m.Output, 2)

	_, err = conn.ResumeExport("http://elsewhere.example/fhir/_bulk/1?job=secret-job")
	assert.ErrorIs(t, err, fhir.ErrCrossOrigin)
	assert.NotContains(t, err.Error(), "secret-job")
}

func TestExportContextCancelledMidPoll(t *testing.T) {
	srv, conn := setup(t, fhirtest.WithExportPolls(100))
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	sleep := func(ctx context.Context, _ time.Duration) error {
		cancel() // the caller gives up while waiting
		return ctx.Err()
	}
	x, err := conn.Export(c, fhir.ExportSleep(sleep))
	require.NoError(t, err)
	_, err = x.Wait(c)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "ehr")
	assert.Equal(t, 1, srv.Hits(http.MethodGet, strings.TrimPrefix(x.StatusURL(), srv.URL+"/")), "no poll after the cancel")
}

// Through an authorization server: the status URL and the files are
// fetched with the connection's token (requiresAccessToken).
func TestExportProtectedServer(t *testing.T) {
	as, fs, conn := protected(t)
	seedBulk(t, fs, 2)
	x, err := conn.Export(ctx(t), fhir.ExportSleep((&sleeper{}).sleep))
	require.NoError(t, err)
	m, err := x.Wait(ctx(t))
	require.NoError(t, err)
	assert.True(t, m.RequiresAccessToken)
	n := 0
	for _, f := range m.Output {
		for _, err := range conn.ExportResources(ctx(t), m, f) {
			require.NoError(t, err)
			n++
		}
	}
	assert.Equal(t, 3+4, n, "the example Patient, two more and their four Observations")
	assert.Equal(t, 1, as.Requests("ehr-client"), "one token for the whole export")
}

func TestStatusURLRedirectedElsewhereIsRefused(t *testing.T) {
	other := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"transactionTime":"2026-01-01T00:00:00Z","request":"x","requiresAccessToken":false,"output":[]}`))
	})
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/status" {
			http.Redirect(w, r, other.URL+"/manifest", http.StatusFound)
			return
		}
		accepted(w, r)
	})
	conn := srv.conn(t, nil)
	x, err := conn.Export(ctx(t))
	require.NoError(t, err)
	_, err = x.Poll(ctx(t))
	require.ErrorIs(t, err, fhir.ErrCrossOrigin)
}
