package fhirtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/internal/fakeclock"
	"github.com/tokenwire/tokenwire/rest"
)

func noWait(context.Context, time.Duration) error { return nil }

// exportIDs runs an export to completion and returns the ids in its files
// by type ("Type/id"), checking each file's count.
func exportIDs(t *testing.T, conn *fhir.Conn, start func() (*fhir.Export, error)) map[string][]string {
	t.Helper()
	x, err := start()
	require.NoError(t, err)
	m, err := x.Wait(t.Context())
	require.NoError(t, err)
	out := map[string][]string{}
	for _, f := range m.Output {
		for line, err := range conn.ExportLines(t.Context(), m, f) {
			require.NoError(t, err)
			var r struct{ ResourceType, ID string }
			require.NoError(t, json.Unmarshal(line, &r))
			require.Equal(t, f.Type, r.ResourceType)
			out[f.Type] = append(out[f.Type], r.ID)
		}
		assert.Len(t, out[f.Type], f.Count, f.Type)
	}
	return out
}

// compartmentServer holds patients a, b, c with an Observation each, an
// Observation of nobody, an Organization and Group g of a and c.
func compartmentServer(t *testing.T, opts ...fhirtest.Option) *fhirtest.Server {
	t.Helper()
	srv := fhirtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	for _, id := range []string{"a", "b", "c"} {
		_, err := srv.Seed(`{"resourceType":"Patient","id":"`+id+`"}`,
			`{"resourceType":"Observation","id":"o-`+id+`","status":"final","code":{"coding":[{"code":"`+id+`"}]},"subject":{"reference":"Patient/`+id+`"}}`)
		require.NoError(t, err)
	}
	_, err := srv.Seed(`{"resourceType":"Observation","id":"o-none","status":"final","code":{}}`,
		`{"resourceType":"Organization","id":"org"}`,
		`{"resourceType":"Group","id":"g","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/a"}},{"entity":{"reference":"`+srv.URL+`/Patient/c"}}]}`)
	require.NoError(t, err)
	return srv
}

func TestExportLevels(t *testing.T) {
	srv := compartmentServer(t, fhirtest.WithExportPolls(0))
	conn := srv.Conn("ehr")
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		start func() (*fhir.Export, error)
		want  map[string][]string
	}{
		{"system", func() (*fhir.Export, error) { return conn.Export(ctx) }, map[string][]string{
			"Patient": {"a", "b", "c"}, "Observation": {"o-a", "o-b", "o-c", "o-none"}, "Organization": {"org"}, "Group": {"g"}}},
		{"patient", func() (*fhir.Export, error) { return conn.ExportPatients(ctx) }, map[string][]string{
			"Patient": {"a", "b", "c"}, "Observation": {"o-a", "o-b", "o-c"}}},
		{"group", func() (*fhir.Export, error) { return conn.ExportGroup(ctx, "g") }, map[string][]string{
			"Patient": {"a", "c"}, "Observation": {"o-a", "o-c"}}},
		{"_type", func() (*fhir.Export, error) {
			return conn.ExportGroup(ctx, "g", fhir.ExportTypes("Observation"))
		},
			map[string][]string{"Observation": {"o-a", "o-c"}}},
		{"_typeFilter", func() (*fhir.Export, error) {
			return conn.ExportPatients(ctx, fhir.ExportParam("_typeFilter", "Observation?code=b"), fhir.ExportParam("_typeFilter", "Observation?code=c"))
		}, map[string][]string{"Patient": {"a", "b", "c"}, "Observation": {"o-b", "o-c"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, exportIDs(t, conn, tc.start))
		})
	}
	_, err := conn.ExportGroup(ctx, "nobody")
	assert.ErrorIs(t, err, rest.ErrNotFound)
	_, err = conn.Export(ctx, fhir.ExportParam("_typeFilter", "Observation?colour=red"))
	assert.ErrorIs(t, err, rest.ErrBadRequest)
}

func TestExportSince(t *testing.T) {
	clk := fakeclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := fhirtest.NewServer(fhirtest.WithClock(clk.Now), fhirtest.WithExportPolls(0))
	t.Cleanup(srv.Close)
	_, err := srv.Seed(`{"resourceType":"Patient","id":"old"}`)
	require.NoError(t, err)
	since := clk.Now()
	clk.Advance(time.Hour)
	_, err = srv.Seed(`{"resourceType":"Patient","id":"new"}`)
	require.NoError(t, err)
	conn := srv.Conn("ehr")
	got := exportIDs(t, conn, func() (*fhir.Export, error) { return conn.Export(t.Context(), fhir.ExportSince(since)) })
	assert.Equal(t, map[string][]string{"Patient": {"new"}}, got)
}

// kickOff sends a raw kick-off.
func kickOff(t *testing.T, srv *fhirtest.Server, method, query string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/$export"+query, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "respond-async")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestExportKickOffChecks(t *testing.T) {
	srv := fhirtest.NewServer()
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, method, query string
		header              map[string]string
		want                int
	}{
		{"ok", "GET", "?_type=Patient&_outputFormat=ndjson", nil, http.StatusAccepted},
		{"no Prefer", "GET", "", map[string]string{"Prefer": "return=minimal"}, http.StatusBadRequest},
		{"no FHIR Accept", "GET", "", map[string]string{"Accept": "text/html"}, http.StatusBadRequest},
		{"POST", "POST", "", nil, http.StatusMethodNotAllowed},
		{"unknown parameter", "GET", "?_elements=id", nil, http.StatusBadRequest},
		{"output format", "GET", "?_outputFormat=text/csv", nil, http.StatusBadRequest},
		{"_since", "GET", "?_since=yesterday", nil, http.StatusBadRequest},
		{"_type", "GET", "?_type=patient", nil, http.StatusBadRequest},
		{"_typeFilter", "GET", "?_typeFilter=code=1", nil, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := kickOff(t, srv, tc.method, tc.query, tc.header)
			assert.Equal(t, tc.want, resp.StatusCode)
			if tc.want == http.StatusAccepted {
				assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Location"), srv.URL+"/_bulk/"))
			}
		})
	}
}

func TestExportPollsAndCancel(t *testing.T) {
	srv := compartmentServer(t, fhirtest.WithExportPolls(3))
	status := kickOff(t, srv, "GET", "", nil).Header.Get("Content-Location")
	poll := func() *http.Response {
		resp, err := srv.Client().Get(status)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	var progress []string
	for range 3 {
		resp := poll()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		progress = append(progress, resp.Header.Get("X-Progress"))
	}
	assert.Equal(t, []string{"0% done", "25% done", "50% done"}, progress)
	resp := poll()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var m fhir.Manifest
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	assert.Len(t, m.Output, 4)
	assert.Equal(t, srv.URL+"/$export", m.Request)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, status, nil)
	require.NoError(t, err)
	del, err := srv.Client().Do(req)
	require.NoError(t, err)
	del.Body.Close()
	assert.Equal(t, http.StatusAccepted, del.StatusCode)
	assert.Equal(t, http.StatusNotFound, poll().StatusCode)
	file, err := srv.Client().Get(m.Output[0].URL)
	require.NoError(t, err)
	file.Body.Close()
	assert.Equal(t, http.StatusNotFound, file.StatusCode, "the files are gone too")
}

// get fetches a file with an optional Range.
func get(t *testing.T, srv *fhirtest.Server, url, rng string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestExportFiles(t *testing.T) {
	for _, ranges := range []bool{true, false} {
		t.Run(fmt.Sprint("ranges=", ranges), func(t *testing.T) {
			var opts []fhirtest.Option
			if !ranges {
				opts = append(opts, fhirtest.WithoutExportRanges())
			}
			srv := compartmentServer(t, append(opts, fhirtest.WithExportPolls(0))...)
			x, err := srv.Conn("ehr").Export(t.Context(), fhir.ExportTypes("Patient"))
			require.NoError(t, err)
			m, err := x.Wait(t.Context())
			require.NoError(t, err)
			url := m.Output[0].URL

			resp, whole, err := get(t, srv, url, "")
			require.NoError(t, err)
			assert.Equal(t, "application/fhir+ndjson", resp.Header.Get("Content-Type"))
			assert.Equal(t, 3, strings.Count(string(whole), "\n"))

			resp, part, err := get(t, srv, url, "bytes=10-")
			require.NoError(t, err)
			if ranges {
				assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
				assert.Equal(t, whole[10:], part)
			} else {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, whole, part)
			}

			srv.CutNextDownload(15)
			resp, cut, err := get(t, srv, url, "")
			assert.Equal(t, fmt.Sprint(len(whole)), resp.Header.Get("Content-Length"), "the whole length is announced")
			assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
			assert.Equal(t, whole[:15], cut)
			_, again, err := get(t, srv, url, "")
			require.NoError(t, err)
			assert.Equal(t, whole, again, "cut once")
		})
	}
}

func TestExportNeedsTheToken(t *testing.T) {
	srv := fhirtest.NewServer(fhirtest.WithTokenCheck(func(tok string) bool { return tok == "good" }), fhirtest.WithExportPolls(0))
	t.Cleanup(srv.Close)
	_, err := srv.Seed(`{"resourceType":"Patient","id":"a"}`)
	require.NoError(t, err)
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer good")
		return srv.Client().Transport.RoundTrip(r)
	})}
	conn, err := fhir.New("ehr", srv.URL, client)
	require.NoError(t, err)
	ids := exportIDs(t, conn, func() (*fhir.Export, error) { return conn.Export(t.Context(), fhir.ExportSleep(noWait)) })
	assert.Equal(t, map[string][]string{"Patient": {"a"}}, ids)

	x, err := conn.Export(t.Context())
	require.NoError(t, err)
	m, err := x.Wait(t.Context())
	require.NoError(t, err)
	assert.True(t, m.RequiresAccessToken)
	resp, _, err := get(t, srv, m.Output[0].URL, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no file without the token")
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An export served like a real server's: polled, then downloaded.
func ExampleWithExportPolls() {
	srv := fhirtest.NewServer(fhirtest.WithExportPolls(2))
	defer srv.Close()
	_, _ = srv.Seed(`{"resourceType":"Patient","id":"a"}`, `{"resourceType":"Patient","id":"b"}`,
		`{"resourceType":"Observation","id":"o","status":"final","code":{},"subject":{"reference":"Patient/a"}}`)
	conn := srv.Conn("ehr")
	ctx := context.Background()

	x, _ := conn.Export(ctx,
		fhir.ExportSleep(noWait), // a test never waits the Retry-After: 1
		fhir.ExportProgress(func(s fhir.ExportStatus) {
			if s.Manifest != nil {
				fmt.Println(s.StatusCode, "complete")
				return
			}
			fmt.Println(s.StatusCode, s.Progress)
		}))
	m, _ := x.Wait(ctx)
	var types []string
	for _, f := range m.Output {
		types = append(types, fmt.Sprintf("%s=%d", f.Type, f.Count))
	}
	sort.Strings(types)
	fmt.Println(types)
	// Output:
	// 202 0% done
	// 202 33% done
	// 200 complete
	// [Observation=1 Patient=2]
}
