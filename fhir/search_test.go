package fhir_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

// seedPatients stores n patients with family "Fam<i%3>" and birth years.
func seedPatients(t testing.TB, srv *fhirtest.Server, n int) {
	t.Helper()
	for i := range n {
		p := models.Patient{
			Id:        ptr(fmt.Sprintf("p%03d", i)),
			Name:      []models.HumanName{{Family: ptr(fmt.Sprintf("Fam%d", i%3)), Given: []string{"G"}}},
			BirthDate: ptr(fmt.Sprintf("%d-06-01", 1950+i)),
		}
		_, err := srv.Seed(p)
		require.NoError(t, err)
	}
}

func TestSearchPagesWithIterator(t *testing.T) {
	srv, conn := setup(t)
	seedPatients(t, srv, 25)

	var ids []string
	for p, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Count(4)) {
		require.NoError(t, err)
		ids = append(ids, *p.Id)
	}
	assert.Len(t, ids, 25)
	assert.Equal(t, "p000", ids[0])
	assert.Equal(t, "p024", ids[24])
	assert.Equal(t, 7, srv.Hits("GET", "Patient"), "25 results in pages of 4")
}

func TestSearchStopsEarly(t *testing.T) {
	srv, conn := setup(t)
	seedPatients(t, srv, 25)
	n := 0
	for _, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Count(4)) {
		require.NoError(t, err)
		if n++; n == 5 {
			break
		}
	}
	assert.Equal(t, 2, srv.Hits("GET", "Patient"), "no page fetched beyond the break")

	pages := 0
	for _, err := range conn.Pages(ctx(t), "Patient", fhir.Params().Count(4), fhir.MaxPages(3)) {
		require.NoError(t, err)
		pages++
	}
	assert.Equal(t, 3, pages)
}

func TestSearchParameters(t *testing.T) {
	srv, conn := setup(t)
	seedPatients(t, srv, 9)
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)
	tests := []struct {
		name string
		q    *fhir.Query
		want []string
	}{
		{"family prefix", fhir.Params().Add("family", "chal"), []string{"example"}},
		{"family exact miss", fhir.Params().Add("family:exact", "chal"), nil},
		{"given", fhir.Params().Add("given", "Jim"), []string{"example"}},
		{"name", fhir.Params().Add("name", "windsor"), []string{"example"}},
		{"or", fhir.Params().Add("_id", "p001", "p002"), []string{"p001", "p002"}},
		{"birthdate ge/lt", fhir.Params().Add("birthdate", "ge1955").Add("birthdate", "lt1957"), []string{"p005", "p006"}},
		{"birthdate eq day", fhir.Params().Add("birthdate", "1974-12-25"), []string{"example"}},
		{"identifier", fhir.Params().Token("identifier", "urn:oid:1.2.36.146.595.217.0.1", "12345"), []string{"example"}},
		{"gender", fhir.Params().Add("gender", "male"), []string{"example"}},
		{"sort desc", fhir.Params().Add("family", "Fam1").Add("_sort", "-birthdate"), []string{"p007", "p004", "p001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, post := range []bool{false, true} {
				if post {
					longQuery(tt.q) // sent as POST _search
				}
				var got []string
				for p, err := range fhir.Search[models.Patient](ctx(t), conn, tt.q) {
					require.NoError(t, err)
					got = append(got, *p.Id)
				}
				assert.Equal(t, tt.want, got, "post=%v", post)
			}
		})
	}
}

func TestSearchObservations(t *testing.T) {
	srv, conn := setup(t)
	obs, err := fhir.Decode[models.Observation](fixture(t, "observation-example.json"))
	require.NoError(t, err)
	_, err = srv.Seed(obs)
	require.NoError(t, err)
	tests := []struct {
		name string
		q    *fhir.Query
		want int
	}{
		{"subject", fhir.Params().Add("subject", "Patient/example"), 1},
		{"patient id", fhir.Params().Add("patient", "example"), 1},
		{"code", fhir.Params().Token("code", "http://loinc.org", "29463-7"), 1},
		{"code other system", fhir.Params().Token("code", "http://snomed.info/sct", "29463-7"), 0},
		{"date ge", fhir.Params().Add("date", "ge2016-03-01"), 1},
		{"date lt", fhir.Params().Add("date", "lt2016-03-01"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			for o, err := range fhir.Search[models.Observation](ctx(t), conn, tt.q) {
				require.NoError(t, err)
				assert.Equal(t, "185", o.ValueQuantity.Value.String())
				n++
			}
			assert.Equal(t, tt.want, n)
		})
	}
}

func TestSearchUnknownParameter(t *testing.T) {
	_, conn := setup(t)
	for _, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Add("shoe-size", "9")) {
		assert.ErrorIs(t, err, rest.ErrBadRequest)
		var fe *fhir.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "not-supported", fe.Issues[0].Code)
		assert.NotContains(t, err.Error(), "=9", "search values are not echoed")
	}
}

func TestSearchPagesDispatchesIncludes(t *testing.T) {
	bundle := fixture(t, "bundle-searchset.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(bundle)
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)

	var pages int
	for page, err := range fhir.SearchPages[models.MedicationRequest](ctx(t), conn, fhir.Params().Add("patient", "347")) {
		if err != nil {
			assert.ErrorContains(t, err, "is not on the origin of the base URL", "the next link points at example.com")
			break
		}
		pages++
		require.Len(t, page.Matches, 1)
		assert.Equal(t, "Patient/347", *page.Matches[0].Subject.Reference)
		require.Len(t, page.Included, 1)
		assert.IsType(t, &models.Medication{}, page.Included[0])
	}
	assert.Equal(t, 1, pages)
}
