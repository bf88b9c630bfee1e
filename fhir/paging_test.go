package fhir_test

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// pageIDs ranges a sequence of pages to the end and lists the entries'
// full URLs.
func pageIDs(t *testing.T, seq iter.Seq2[*models.Bundle, error]) []string {
	var got []string
	for b, err := range seq {
		if !assert.NoError(t, err) {
			break
		}
		for _, e := range b.Entry {
			got = append(got, *e.FullUrl)
		}
	}
	return got
}

func TestPagesSequenceIsReusable(t *testing.T) {
	srv, conn := setup(t)
	seedPatients(t, srv, 10)
	seqs := map[string]iter.Seq2[*models.Bundle, error]{
		"search": conn.Pages(ctx(t), "Patient", fhir.Params().Count(4)),
		"post":   conn.Pages(ctx(t), "Patient", longQuery(fhir.Params().Count(4))),
	}
	for name, seq := range seqs {
		t.Run(name, func(t *testing.T) {
			first := pageIDs(t, seq)
			require.Len(t, first, 10)
			assert.Equal(t, first, pageIDs(t, seq), "a second range starts again at the first page")

			var wg sync.WaitGroup
			got := make([][]string, 4)
			for i := range got {
				wg.Go(func() { got[i] = pageIDs(t, seq) })
			}
			wg.Wait()
			for _, g := range got {
				assert.Equal(t, first, g, "concurrent ranges each see every page")
			}
		})
	}
}

// pagingServer answers every request with an empty searchset page whose
// next link next returns (relative to the server URL; "" for none).
func pagingServer(t *testing.T, next func(page string) string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		links := ""
		if n := next(r.URL.Query().Get("page")); n != "" {
			links = fmt.Sprintf(`,"link":[{"relation":"next","url":%q}]`, srv.URL+n)
		}
		_, _ = fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset"%s}`, links)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPagesStopOnNextLinkLoops(t *testing.T) {
	tests := []struct {
		name  string
		next  func(page string) string
		pages int // fetched before the loop is seen
	}{
		{"self", func(string) string { return "/Patient?page=1" }, 2},
		{"self on the first page", func(string) string { return "/Patient?_count=5" }, 1},
		{"two-cycle", func(p string) string {
			if p == "a" {
				return "/Patient?page=b"
			}
			return "/Patient?page=a"
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pagingServer(t, tt.next)
			conn, err := fhir.New("ehr", srv.URL, srv.Client())
			require.NoError(t, err)
			pages := 0
			var last error
			for _, err := range conn.Pages(ctx(t), "Patient", fhir.Params().Count(5)) {
				if err != nil {
					last = err
					break
				}
				if pages++; pages > 50 {
					require.Fail(t, "the loop was followed")
				}
			}
			assert.Equal(t, tt.pages, pages)
			require.ErrorIs(t, last, fhir.ErrPagingNeverEnds)
			assert.ErrorContains(t, last, "loops back to a page already fetched")
			assert.ErrorContains(t, last, "fhir: ehr: next link http://127.0.0.1")
			assert.NotContains(t, last.Error(), "page=a", "query values are redacted")
		})
	}
}

func TestPagesDefaultCap(t *testing.T) {
	srv := pagingServer(t, func(p string) string {
		n, _ := strconv.Atoi(p)
		return "/Patient?page=" + strconv.Itoa(n+1)
	})
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)

	pages := 0
	var last error
	for _, err := range conn.Pages(ctx(t), "Patient", nil) {
		if err != nil {
			last = err
			break
		}
		if pages++; pages > defaultMaxPages {
			require.Fail(t, "no default cap")
		}
	}
	assert.Equal(t, defaultMaxPages, pages)
	assert.ErrorIs(t, last, fhir.ErrPagingNeverEnds, "a silent truncation would lose results")
	assert.ErrorContains(t, last, "more than 1000 pages")

	pages = 0
	for _, err := range conn.Pages(ctx(t), "Patient", nil, fhir.MaxPages(3)) {
		require.NoError(t, err, "an explicit cap stops quietly")
		pages++
	}
	assert.Equal(t, 3, pages)

	pages = 0
	for _, err := range conn.Pages(ctx(t), "Patient", nil, fhir.MaxPages(-1)) {
		require.NoError(t, err)
		if pages++; pages == defaultMaxPages+5 {
			break // no cap
		}
	}
	assert.Equal(t, defaultMaxPages+5, pages)
}

// doerFunc is an in-memory Doer.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func TestPagesNextLinkOrigin(t *testing.T) {
	tests := []struct {
		base, next string
		ok         bool
	}{
		{"https://ehr.example/fhir", "https://ehr.example:443/fhir/Patient?page=2", true},
		{"https://ehr.example:443/fhir", "https://ehr.example/fhir/Patient?page=2", true},
		{"https://EHR.example/fhir", "HTTPS://ehr.EXAMPLE/fhir/Patient?page=2", true},
		{"http://ehr.example/fhir", "http://ehr.example:80/fhir/Patient?page=2", true},
		{"https://[::1]/fhir", "https://[::1]:443/fhir/Patient?page=2", true},
		{"https://ehr.example/fhir", "https://ehr.example:8443/fhir/Patient?page=2", false},
		{"https://ehr.example/fhir", "http://ehr.example/fhir/Patient?page=2", false},
		{"https://ehr.example/fhir", "https://evil.example/fhir/Patient?page=2", false},
		{"https://ehr.example/fhir", "https://ehr.example:80/fhir/Patient?page=2", false},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.next, func(t *testing.T) {
			doer := doerFunc(func(r *http.Request) (*http.Response, error) {
				body := `{"resourceType":"Bundle","type":"searchset"}`
				if r.URL.Query().Get("page") == "" {
					body = fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":%q}]}`, tt.next)
				}
				return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader([]byte(body)))}, nil
			})
			conn, err := fhir.New("ehr", tt.base, doer)
			require.NoError(t, err)
			pages := 0
			var last error
			for _, err := range conn.Pages(ctx(t), "Patient", nil) {
				if err != nil {
					last = err
					break
				}
				pages++
			}
			if tt.ok {
				assert.NoError(t, last)
				assert.Equal(t, 2, pages)
				return
			}
			assert.Equal(t, 1, pages)
			assert.ErrorContains(t, last, "is not on the origin of the base URL")
			assert.NotContains(t, last.Error(), "page=2")
		})
	}
}

// roundTripFunc is an in-memory http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The paging check and the connection's credential check share one origin
// normaliser: a next link that the paging follows (explicit default port,
// other letter case) gets the connection's credential too, so it is not
// answered 401.
func TestPagesNextLinkOnTheOriginCarriesTheCredential(t *testing.T) {
	tests := []struct{ base, next string }{
		{"https://ehr.example/fhir", "https://ehr.example:443/fhir/Patient?page=2"},
		{"https://ehr.example:443/fhir", "https://ehr.example/fhir/Patient?page=2"},
		{"https://EHR.example/fhir", "HTTPS://ehr.EXAMPLE/fhir/Patient?page=2"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.next, func(t *testing.T) {
			var mu sync.Mutex
			var auth []string
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				auth = append(auth, r.Header.Get("Authorization"))
				mu.Unlock()
				body := `{"resourceType":"Bundle","type":"searchset"}`
				if r.URL.Query().Get("page") == "" {
					body = fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":%q}]}`, tt.next)
				}
				return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: r,
					Body: io.NopCloser(bytes.NewReader([]byte(body)))}, nil
			})
			rc, err := rest.NewConn("ehr", rest.ConnConfig{BaseURL: tt.base}, rest.Bearer("tok-1"), rest.WithTransport(rt))
			require.NoError(t, err)
			conn, err := fhir.New("ehr", tt.base, rc)
			require.NoError(t, err)
			pages := 0
			for _, err := range conn.Pages(ctx(t), "Patient", nil) {
				require.NoError(t, err)
				pages++
			}
			assert.Equal(t, 2, pages)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []string{"Bearer tok-1", "Bearer tok-1"}, auth, "both pages carry the token")
		})
	}
}

// The error of a later page hides the search values of the first request
// too: its next link (?page=2, a server's own page token) does not carry
// them, but the server may echo them, by GET as by POST (UsePost, whose
// point is to keep them out of sight).
func TestPagesLaterPageErrorHidesTheSearchValues(t *testing.T) {
	const family = "Zyxwvutsrq"
	var base string
	conn, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if r.URL.Query().Get("page") == "" {
			_, _ = fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"%s/Patient?page=2"}]}`, base)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"expired","diagnostics":"search family=%s expired"}]}`, family)
	})
	base = conn.BaseURL()
	for name, opts := range map[string][]fhir.SearchOption{"GET": nil, "POST": {fhir.UsePost()}} {
		t.Run(name, func(t *testing.T) {
			var errs []error
			for _, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Add("family", family), opts...) {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], rest.ErrBadRequest)
			assert.ErrorContains(t, errs[0], "Patient?page=[redacted]: 400 Bad Request; error expired: search family=[redacted] expired")
			assert.NotContains(t, errs[0].Error(), family)
			var re *rest.Error
			require.ErrorAs(t, errs[0], &re)
			assert.NotContains(t, re.Excerpt, family)
		})
	}
}

// A page answered 200 with an OperationOutcome instead of a Bundle (an
// expired page token, a search the server gave up) ends the iteration
// with the connection's name and the outcome's issues, scrubbed of the
// search values, not with a bare "decoding Bundle: got OperationOutcome".
func TestPagesAnsweredWithAnOutcome(t *testing.T) {
	var base string
	conn, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if r.URL.Query().Get("page") == "" {
			_, _ = fmt.Fprintf(w, `{"resourceType":"Bundle","type":"history","link":[{"relation":"next","url":"%s/Patient/_history?page=2"}]}`, base)
			return
		}
		_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found",
			"diagnostics":"the page of _since=2026-01-02 has expired"}]}`)
	})
	base = conn.BaseURL()
	var errs []error
	for _, err := range conn.History(ctx(t), "Patient", "", fhir.Params().Add("_since", "2026-01-02")) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Len(t, errs, 1)
	err := errs[0]
	assert.ErrorContains(t, err, "fhir: ehr: page: the server answered an OperationOutcome, not a Bundle")
	assert.ErrorContains(t, err, "error not-found: the page of _since=[redacted] has expired")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, http.StatusOK, fe.StatusCode)
	require.Len(t, fe.Issues, 1)
}
