package fhir_test

import (
	"fmt"
	"regexp"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// Batches and transactions against fhirtest and the real server.

// urnUUID is a new urn:uuid full URL.
func urnUUID(t *testing.T) string {
	t.Helper()
	u := unique(t)[2:] // 16 hex digits
	return fmt.Sprintf("urn:uuid:%s-0000-4000-8000-%s", u[:8], "0000"+u[8:])
}

func TestServersTransactionResolvesReferences(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		full := urnUUID(t)
		pat := entry(t, "POST", "Patient", newPatient(fam))
		pat.FullUrl = &full
		obs := entry(t, "POST", "Observation", &models.Observation{Status: models.ObservationStatusFinal,
			Code:    models.CodeableConcept{Text: ptr("weight")},
			Subject: &models.Reference{Reference: &full}})

		out, err := conn.Transaction(ctx(t), &models.Bundle{Entry: []models.BundleEntry{obs, pat}})
		require.NoError(t, err)
		assert.Equal(t, models.BundleTypeTransactionResponse, out.Type)
		require.Len(t, out.Entry, 2, "one per entry, in the request's order")
		status, loc, _ := fhir.EntryResult(out.Entry[1])
		assert.Equal(t, 201, status)
		m := regexp.MustCompile(`(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/.*)?$`).FindStringSubmatch(loc)
		require.NotNil(t, m, "location %q", loc)
		status, _, _ = fhir.EntryResult(out.Entry[0])
		assert.Equal(t, 201, status)

		o, err := fhir.Decode[models.Observation](out.Entry[0].Resource)
		require.NoError(t, err)
		assert.Equal(t, "Patient/"+m[1], *o.Subject.Reference, "the urn:uuid became the new Patient")
		p, err := fhir.Read[models.Patient](ctx(t), conn, m[1])
		require.NoError(t, err)
		assert.Equal(t, fam, *p.Name[0].Family)
	})
}

func TestServersTransactionRollsBack(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		kept, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)
		b := &models.Bundle{Entry: []models.BundleEntry{
			entry(t, "POST", "Patient", newPatient(fam)),
			entry(t, "DELETE", "Patient/"+kept.ID, nil),
			entry(t, "GET", "Patient/"+unique(t), nil),
		}}
		_, err = conn.Transaction(ctx(t), b)
		assert.ErrorIs(t, err, rest.ErrNotFound)

		var got []string
		for p, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Add("family", fam)) {
			require.NoError(t, err)
			got = append(got, *p.Id)
		}
		assert.Equal(t, []string{kept.ID}, got, "the create and the delete were undone")
	})
}

func TestServersBatchEntriesFailAlone(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		res, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)
		upd := res.Resource
		upd.Active = ptr(false)
		out, err := conn.Batch(ctx(t), &models.Bundle{Entry: []models.BundleEntry{
			entry(t, "GET", "Patient/"+res.ID, nil),
			entry(t, "GET", "Patient/"+unique(t), nil),
			entry(t, "PUT", "Patient/"+res.ID, upd),
			entry(t, "POST", "Patient", newPatient(fam)),
		}})
		require.NoError(t, err)
		assert.Equal(t, models.BundleTypeBatchResponse, out.Type)
		var codes []int
		for _, e := range out.Entry {
			s, _, _ := fhir.EntryResult(e)
			codes = append(codes, s)
		}
		assert.Equal(t, []int{200, 404, 200, 201}, codes)
		_, _, issues := fhir.EntryResult(out.Entry[1])
		require.NotEmpty(t, issues)
		assert.Equal(t, "not-found", issues[0].Code)

		got, err := fhir.Read[models.Patient](ctx(t), conn, res.ID)
		require.NoError(t, err)
		assert.False(t, *got.Active, "the update after the failed read was done")
	})
}
