package fhir_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/internal/fhirjson"
)

// serveBundle answers every request with body (and counts them).
func serveBundle(t *testing.T, body func(r *http.Request) string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(body(r)))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// unboundBundle has three Patients; the second has a gender outside the
// value set, as a server that does not check bindings stores and sends.
const unboundBundle = `{"resourceType":"Bundle","type":"searchset","total":3,"entry":[
 {"resource":{"resourceType":"Patient","id":"a","gender":"female"},"search":{"mode":"match"}},
 {"resource":{"resourceType":"Patient","id":"b","gender":"robot"},"search":{"mode":"match"}},
 {"resource":{"resourceType":"Patient","id":"c"},"search":{"mode":"match"}}]}`

// Search ends with the *DecodeError of the first match that does not
// decode: an error of Search is always its end. SearchPages goes on past
// it and lists it in the page's Errors, apart from the search's failure.
func TestSearchEndsAtAnEntryThatDoesNotDecode(t *testing.T) {
	srv, _ := serveBundle(t, func(*http.Request) string { return unboundBundle })
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)

	var ids []string
	var errs []error
	for p, err := range fhir.Search[models.Patient](ctx(t), conn, nil) {
		if err != nil {
			errs = append(errs, err)
			continue // a wrong loop: still, nothing follows the error
		}
		ids = append(ids, *p.Id)
	}
	assert.Equal(t, []string{"a"}, ids, "nothing after the error")
	require.Len(t, errs, 1)
	var de *fhir.DecodeError
	require.ErrorAs(t, errs[0], &de)
	assert.Equal(t, "gender", de.Path)
	assert.Contains(t, errs[0].Error(), "page 1, entry 1")
	assert.NotContains(t, errs[0].Error(), "robot", "a code may be patient data")

	pages := 0
	for page, err := range fhir.SearchPages[models.Patient](ctx(t), conn, nil) {
		require.NoError(t, err, "an entry that does not decode is no failure of the search")
		pages++
		require.Len(t, page.Matches, 2, "the entry after the bad one still comes")
		assert.Equal(t, "c", *page.Matches[1].Id)
		require.Len(t, page.Errors, 1)
		require.ErrorAs(t, page.Errors[0], &de)
		assert.Contains(t, page.Errors[0].Error(), "page 1, entry 1")
	}
	assert.Equal(t, 1, pages)
}

func TestLenientKeepsEveryEntry(t *testing.T) {
	srv, _ := serveBundle(t, func(*http.Request) string { return unboundBundle })
	var unknown []fhir.UnknownCode
	conn, err := fhir.New("ehr", srv.URL, srv.Client(), fhir.Lenient(func(u fhir.UnknownCode) { unknown = append(unknown, u) }))
	require.NoError(t, err)
	var got []*models.Patient
	for p, err := range fhir.Search[models.Patient](ctx(t), conn, nil) {
		require.NoError(t, err)
		got = append(got, p)
	}
	require.Len(t, got, 3)
	assert.Nil(t, got[1].Gender, "an optional unknown code is left out, never read as another code")
	assert.Equal(t, []fhir.UnknownCode{{ResourceType: "Patient", Path: "gender", Code: "robot"}}, unknown)

	twin, _ := serveBundle(t, func(*http.Request) string {
		return `{"resourceType":"Patient","id":"t","link":[{"type":"twin","other":{}}]}`
	})
	var codes []fhir.UnknownCode
	lenient, err := fhir.New("ehr", twin.URL, twin.Client(), fhir.Lenient(func(u fhir.UnknownCode) { codes = append(codes, u) }))
	require.NoError(t, err)
	p, err := fhir.Read[models.Patient](ctx(t), lenient, "t")
	require.NoError(t, err)
	assert.Equal(t, "<unknown>", p.Link[0].Type.Code(), "a required unknown code is marked, not zero (replaced-by)")
	require.Len(t, codes, 1)
	assert.Equal(t, "link[0].type", codes[0].Path)
}

func TestPageOfTooManyEntriesIsRefused(t *testing.T) {
	empties := `{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Repeat(`{},`, defaultMaxEntries) + `{}]}`
	srv, _ := serveBundle(t, func(*http.Request) string { return empties })
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	for _, err := range conn.Pages(ctx(t), "Patient", nil) {
		require.ErrorIs(t, err, fhir.ErrBodyTooLarge)
		assert.Contains(t, err.Error(), "ehr")
	}
	bigger, err := fhir.New("ehr", srv.URL, srv.Client(), fhir.WithMaxEntries(defaultMaxEntries+1))
	require.NoError(t, err)
	for b, err := range bigger.Pages(ctx(t), "Patient", nil) {
		require.NoError(t, err)
		assert.Len(t, b.Entry, defaultMaxEntries+1)
	}
}

func TestNextLinkTooLongIsRefused(t *testing.T) {
	var srv *httptest.Server
	srv, hits := serveBundle(t, func(*http.Request) string {
		next := srv.URL + "/Patient?page=" + strings.Repeat("x", maxLinkLength)
		return `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + next + `"}]}`
	})
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	var last error
	for _, err := range conn.Pages(ctx(t), "Patient", nil) {
		last = err
	}
	require.Error(t, last)
	assert.Contains(t, last.Error(), "longer than")
	assert.Equal(t, int32(1), hits.Load())
}

func TestSearchPagesSeparatesIncludesAndResolves(t *testing.T) {
	var srv *httptest.Server
	srv, hits := serveBundle(t, func(r *http.Request) string {
		if r.URL.Path == "/Medication/m2" {
			return `{"resourceType":"Medication","id":"m2"}`
		}
		return fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","total":2,
		 "link":[{"relation":"self","url":"%[1]s/MedicationRequest?_include=MedicationRequest:medication"}],
		 "entry":[
		 {"fullUrl":"%[1]s/MedicationRequest/r1","resource":{"resourceType":"MedicationRequest","id":"r1","status":"active","intent":"order",
		   "medicationReference":{"reference":"Medication/m1"},"subject":{"reference":"Patient/p"}},"search":{"mode":"match"}},
		 {"fullUrl":"%[1]s/MedicationRequest/r2","resource":{"resourceType":"MedicationRequest","id":"r2","status":"active","intent":"order",
		   "medicationReference":{"reference":"%[1]s/Medication/m2"},"subject":{"reference":"Patient/p"}},"search":{"mode":"match"}},
		 {"fullUrl":"%[1]s/Medication/m1","resource":{"resourceType":"Medication","id":"m1"},"search":{"mode":"include"}},
		 {"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"processing","diagnostics":"_sort ignored"}]},"search":{"mode":"outcome"}}]}`, srv.URL)
	})
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	q := fhir.Params().Add("_include", "MedicationRequest:medication")
	for page, err := range fhir.SearchPages[models.MedicationRequest](ctx(t), conn, q) {
		require.NoError(t, err)
		require.NotNil(t, page.Total)
		assert.Equal(t, 2, *page.Total)
		assert.Contains(t, page.Links["self"], "/MedicationRequest")
		require.Len(t, page.Matches, 2)
		require.Len(t, page.Included, 1)
		assert.Empty(t, page.Errors)
		require.Len(t, page.Outcome, 1)
		assert.Equal(t, "_sort ignored", page.Outcome[0].Diagnostics)

		before := hits.Load()
		r1 := page.Matches[0].MedicationReference
		m1, err := conn.Resolve(ctx(t), page, r1)
		require.NoError(t, err)
		assert.Equal(t, "m1", *m1[*r1.Reference].(*models.Medication).Id)
		assert.Equal(t, before, hits.Load(), "an included resource is not read again")

		r2 := page.Matches[1].MedicationReference
		m2, err := conn.Resolve(ctx(t), page, r2)
		require.NoError(t, err, "an absolute reference on the base URL is read from the server")
		assert.Equal(t, "m2", *m2[*r2.Reference].(*models.Medication).Id)
		assert.Equal(t, before+1, hits.Load())

		for _, ref := range []string{"https://elsewhere.example/Medication/x", "#contained", "Medication", "Medication/x?y=1"} {
			got, err := conn.Resolve(ctx(t), page, models.Reference{Reference: &ref})
			assert.Error(t, err, ref)
			assert.Empty(t, got, ref)
		}
		assert.Equal(t, before+1, hits.Load(), "no request for a reference that is not on the base URL")
	}
}

// TestHugePageOfEmptyEntriesCostsLittle: 16 MiB of {"entry":[{},{},…]}
// once took 1.9 GB of heap; now it is refused after reading it, before
// memory is taken for its entries.
func TestHugePageOfEmptyEntriesCostsLittle(t *testing.T) {
	body := `{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Repeat(`{},`, (defaultMaxBody-100)/3) + `{}]}`
	srv, _ := serveBundle(t, func(*http.Request) string { return body })
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, err := range conn.Pages(ctx(t), "Patient", nil) {
		require.ErrorIs(t, err, fhir.ErrBodyTooLarge)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(8*defaultMaxBody), "allocated %d MiB", allocated>>20)
}

// TestAmplifiedPagesAndResourcesAreBounded: {} is 3 bytes of JSON and 448
// bytes of Extension; a page or a resource made of them is refused before
// it takes more than a bounded multiple of its size.
func TestAmplifiedPagesAndResourcesAreBounded(t *testing.T) {
	ext := `"extension":[` + strings.Repeat(`{},`, 9999) + `{}]`
	entry := `{"resource":{"resourceType":"Patient",` + ext + `}}`
	page := `{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Repeat(entry+",", 99) + entry + `]}`
	srv, _ := serveBundle(t, func(*http.Request) string { return page })
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	errs := 0
	for page, err := range fhir.SearchPages[models.Patient](ctx(t), conn, nil) {
		require.NoError(t, err)
		for _, err := range page.Errors {
			errs++
			var de *fhir.DecodeError
			require.ErrorAs(t, err, &de)
		}
	}
	runtime.ReadMemStats(&after)
	assert.Equal(t, 100, errs, "each amplified resource is refused, the search goes on")
	allocated := after.TotalAlloc - before.TotalAlloc
	perResource := uint64(len(entry))*16 + 1<<20 // the bound of one resource's decode
	assert.Less(t, allocated, 100*perResource+uint64(len(page))*8, "allocated %d MiB for a %d KiB page", allocated>>20, len(page)>>10)

	// Through encoding/json (a duplicate id sends it there) the bound holds too.
	_, err = fhir.Decode[models.Patient]([]byte(`{"resourceType":"Patient","id":"a","id":"b",` + ext + `}`))
	assert.ErrorIs(t, err, fhirjson.ErrTooLarge)
	few := `"extension":[` + strings.Repeat(`{},`, 999) + `{}]`
	_, err = fhir.Decode[models.Patient]([]byte(`{"resourceType":"Patient","id":"a","id":"b",` + few + `}`))
	assert.NoError(t, err, "a thousand empty extensions fit the bound")
}
