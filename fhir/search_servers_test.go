package fhir_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

// createPatients creates n patients of family fam+"x<i%3>", born in
// 1950+i, and returns their ids in that order.
func createPatients(t *testing.T, conn *fhir.Conn, fam string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		p := newPatient(fmt.Sprintf("%sx%d", fam, i%3))
		p.BirthDate = ptr(fmt.Sprintf("%d-06-01", 1950+i))
		p.Gender = ptr([]models.AdministrativeGender{models.AdministrativeGenderMale, models.AdministrativeGenderFemale}[i%2])
		res, err := fhir.Create(ctx(t), conn, p)
		require.NoError(t, err)
		ids[i] = res.ID
	}
	return ids
}

func TestServersSearchPages(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		ids := createPatients(t, conn, fam, 7)
		q := fhir.Params().Add("family", fam).Sort("birthdate").Count(3)

		var got []string
		for p, err := range fhir.Search[models.Patient](ctx(t), conn, q) {
			require.NoError(t, err)
			got = append(got, *p.Id)
		}
		assert.Equal(t, ids, got, "all of them, in birth order, across pages")

		var sizes []int
		for b, err := range conn.Pages(ctx(t), "Patient", q) {
			require.NoError(t, err)
			require.NotNil(t, b.Total)
			assert.Equal(t, 7, *b.Total)
			sizes = append(sizes, len(b.Entry))
		}
		assert.Equal(t, []int{3, 3, 1}, sizes)

		n := 0
		for _, err := range fhir.Search[models.Patient](ctx(t), conn, q) {
			require.NoError(t, err)
			if n++; n == 4 {
				break
			}
		}
		assert.Equal(t, 4, n, "a break ends the iteration")
	})
}

func TestServersSearchParameters(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		ids := createPatients(t, conn, fam, 7)
		byFam := func() *fhir.Query { return fhir.Params().Add("family", fam).Sort("birthdate") }
		tests := []struct {
			name string
			q    *fhir.Query
			want []string
		}{
			{"family", byFam(), ids},
			{"family of one", fhir.Params().Add("family", fam+"x1").Sort("birthdate"), []string{ids[1], ids[4]}},
			{"given and family", byFam().Add("given", "jam"), ids},
			{"or ids", fhir.Params().Add("_id", ids[2], ids[5]).Sort("birthdate"), []string{ids[2], ids[5]}},
			{"birthdate ge and lt", byFam().Add("birthdate", "ge1953").Add("birthdate", "lt1955"), []string{ids[3], ids[4]}},
			{"birthdate day", byFam().Add("birthdate", "1952-06-01"), []string{ids[2]}},
			{"identifier", fhir.Params().Token("identifier", idSystem, fam+"x2"), []string{ids[2], ids[5]}},
			{"identifier other system", fhir.Params().Token("identifier", "urn:other", fam+"x2"), nil},
			{"gender", byFam().Add("gender", "female"), []string{ids[1], ids[3], ids[5]}},
			{"sort descending", fhir.Params().Add("family", fam+"x0").Sort("-birthdate"), []string{ids[6], ids[3], ids[0]}},
		}
		for _, tt := range tests {
			for _, post := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s post=%v", tt.name, post), func(t *testing.T) {
					var opts []fhir.SearchOption
					if post {
						opts = append(opts, fhir.UsePost())
					}
					var got []string
					for p, err := range fhir.Search[models.Patient](ctx(t), conn, tt.q, opts...) {
						require.NoError(t, err)
						got = append(got, *p.Id)
					}
					if tt.name == "identifier" {
						assert.ElementsMatch(t, tt.want, got)
						return
					}
					assert.Equal(t, tt.want, got)
				})
			}
		}
	})
}

func TestServersSearchInclude(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		pat, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)
		ref := "Patient/" + pat.ID
		for _, v := range []string{"70", "72"} {
			_, err := fhir.Create(ctx(t), conn, &models.Observation{
				Status:            models.ObservationStatusFinal,
				Code:              models.CodeableConcept{Coding: []models.Coding{{System: ptr("http://loinc.org"), Code: ptr("29463-7")}}},
				Subject:           &models.Reference{Reference: &ref},
				EffectiveDateTime: ptr("2016-03-28"),
				ValueString:       ptr(v),
			})
			require.NoError(t, err)
		}

		q := fhir.Params().Add("subject", ref).Add("_include", "Observation:subject").Count(1)
		var matches, included int
		for page, err := range fhir.SearchPages[models.Observation](ctx(t), conn, q) {
			require.NoError(t, err)
			require.Len(t, page.Matches, 1)
			assert.Equal(t, ref, *page.Matches[0].Subject.Reference)
			matches++
			require.Len(t, page.Included, 1, "the subject, on every page")
			p, ok := page.Included[0].(*models.Patient)
			require.True(t, ok, "%T", page.Included[0])
			assert.Equal(t, pat.ID, *p.Id)
			included++
		}
		assert.Equal(t, 2, matches)
		assert.Equal(t, 2, included)

		var revs []string
		q = fhir.Params().Add("_id", pat.ID).Add("_revinclude", "Observation:subject")
		for page, err := range fhir.SearchPages[models.Patient](ctx(t), conn, q) {
			require.NoError(t, err)
			require.Len(t, page.Matches, 1)
			for _, inc := range page.Included {
				o, ok := inc.(*models.Observation)
				require.True(t, ok, "%T", inc)
				revs = append(revs, *o.ValueString)
			}
		}
		assert.ElementsMatch(t, []string{"70", "72"}, revs)
	})
}

// A search URL past what the server reads of a request line is refused:
// 431 by the real server past Node's 16 KiB of line and headers, and by
// fhirtest alike (or 414, when it plays a proxy that takes less); the same
// search by POST goes through. The GET is sent with Conn.Get, which sends
// what it is given whatever its length.
func TestServersLongSearchURL(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		q := fhir.Params().Add("family", unique(t)+strings.Repeat("x", 17<<10))
		_, err := conn.Get(ctx(t), "Patient", q)
		var fe *fhir.Error
		require.ErrorAs(t, err, &fe)
		assert.Contains(t, []int{http.StatusRequestURITooLong, http.StatusRequestHeaderFieldsTooLarge}, fe.StatusCode)

		n := 0
		for _, err := range fhir.Search[models.Patient](ctx(t), conn, q, fhir.UsePost()) {
			require.NoError(t, err)
			n++
		}
		assert.Zero(t, n)

		out, err := conn.Get(ctx(t), "Patient", fhir.Params().Add("family", unique(t)+strings.Repeat("x", 4<<10)))
		require.NoError(t, err)
		b, ok := out.(*models.Bundle)
		require.True(t, ok, "%T", out)
		assert.Empty(t, b.Entry)
	})
}

func TestServersSearchObservations(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		pat, err := fhir.Create(ctx(t), conn, newPatient(unique(t)))
		require.NoError(t, err)
		ref := "Patient/" + pat.ID
		code := unique(t) // a code of this test's own
		_, err = fhir.Create(ctx(t), conn, &models.Observation{
			Status:            models.ObservationStatusFinal,
			Code:              models.CodeableConcept{Coding: []models.Coding{{System: ptr("http://loinc.org"), Code: ptr(code)}}},
			Subject:           &models.Reference{Reference: &ref},
			EffectiveDateTime: ptr("2016-03-28T09:30:00Z"),
			ValueString:       ptr("185"),
		})
		require.NoError(t, err)
		tests := []struct {
			name string
			q    *fhir.Query
			want int
		}{
			{"subject", fhir.Params().Add("subject", ref), 1},
			{"patient id", fhir.Params().Add("patient", pat.ID), 1},
			{"code", fhir.Params().Token("code", "http://loinc.org", code), 1},
			{"code any system", fhir.Params().Add("code", code), 1},
			{"code other system", fhir.Params().Token("code", "http://snomed.info/sct", code), 0},
			{"date ge", fhir.Params().Add("subject", ref).Add("date", "ge2016-03-01"), 1},
			{"date lt", fhir.Params().Add("subject", ref).Add("date", "lt2016-03-01"), 0},
			{"date day", fhir.Params().Add("subject", ref).Add("date", "2016-03-28"), 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				n := 0
				for o, err := range fhir.Search[models.Observation](ctx(t), conn, tt.q) {
					require.NoError(t, err)
					assert.Equal(t, "185", *o.ValueString)
					n++
				}
				assert.Equal(t, tt.want, n)
			})
		}
	})
}
