package fhir_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

// TestDiagnosticsRedactWholeTokensOnly: a search value is blanked out of a
// server's text only where it stands as a whole token, the values of
// parameters that only shape the result are never blanked, and error URLs
// keep those values.
func TestDiagnosticsRedactWholeTokensOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		q := r.URL.Query()
		_, _ = fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",
			"diagnostics":"injected fault 400: _count=%s _sort=%s; no female patient %s (MRN 77), family %s, born %s (line 4)"}]}`,
			q.Get("_count"), q.Get("_sort"), q.Get("identifier"), q.Get("family"), "1970-01-01")
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)

	q := fhir.Params().Count(4).Add("_sort", "-date").Token("identifier", "urn:mrn", "77").Add("family", "Chalmers").
		Add("gender", "male").Add("birthdate", "ge1970-01-01")
	var got error
	for _, err := range fhir.Search[models.Patient](context.Background(), conn, q) {
		got = err
	}
	require.Error(t, got)
	msg := got.Error()
	assert.Contains(t, msg, "injected fault 400: _count=4 _sort=-date", "a digit never eats into other text; safe values stay")
	assert.Contains(t, msg, "no female patient [redacted] (MRN [redacted]), family [redacted], born [redacted] (line 4)", msg)
	assert.NotContains(t, msg, "Chalmers")
	assert.NotContains(t, msg, "1970-01-01")
	var fe *fhir.Error
	require.ErrorAs(t, got, &fe)
	assert.Contains(t, fe.URL, "_count=4")
	assert.Contains(t, fe.URL, "_sort=-date")
	assert.Contains(t, fe.URL, "family=[redacted]")
	assert.NotContains(t, fe.URL, "Chalmers")
}

// TestEchoedFormsOfSearchValuesAreBlanked: case, URL, HTML and JSON
// escapes, FHIR search escapes undone, words of a name, and FHIRPath
// expressions that quote a value.
func TestEchoedFormsOfSearchValuesAreBlanked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",
			"diagnostics":"no CHALMERS; van%20Houten M%c3%bcller O&#39;Brien ACME$991 James; M\u00fcller",
			"expression":["Patient.identifier.where(value='4711-22')"]}]}`)
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	q := fhir.Params().Add("family", "Chalmers").Add("name", "van Houten").Add("given", "Müller").
		Add("name", "O'Brien").Add("identifier", "ACME$991").Add("name", "Peter James").Add("identifier", "4711-22")
	var got error
	for _, err := range fhir.Search[models.Patient](context.Background(), conn, q) {
		got = err
	}
	require.Error(t, got)
	msg := got.Error()
	for _, leak := range []string{"CHALMERS", "Houten", "M%c3%bcller", "O&#39;Brien", "ACME$991", "James", "Müller", "4711-22"} {
		assert.NotContains(t, msg, leak)
	}
	assert.Contains(t, msg, "no [redacted]")
}
