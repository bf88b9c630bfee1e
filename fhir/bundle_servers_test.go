package fhir_test

import (
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// Batches and transactions against fhirtest and the real server.

func TestServersTransactionResolvesReferences(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		var tx fhir.Tx
		pat := tx.Create(newPatient(fam))
		obs := tx.Create(&models.Observation{Status: models.ObservationStatusFinal,
			Code: models.CodeableConcept{Text: ptr("weight")}, Subject: &models.Reference{Reference: &pat}})

		res, err := conn.Transaction(ctx(t), &tx)
		require.NoError(t, err)
		require.Len(t, res, 2)
		for _, k := range []string{pat, obs} {
			require.Contains(t, res, k)
			assert.Equal(t, http.StatusCreated, res[k].Status, k)
			assert.NotEmpty(t, res[k].ID, k)
			assert.NotEmpty(t, res[k].VersionID, k)
			assert.NoError(t, res[k].Err)
		}
		got, ok := res[obs].Resource.(*models.Observation)
		require.True(t, ok, "%T", res[obs].Resource)
		assert.Equal(t, "Patient/"+res[pat].ID, *got.Subject.Reference, "the urn:uuid became the new Patient")
		p, err := fhir.Read[models.Patient](ctx(t), conn, res[pat].ID)
		require.NoError(t, err)
		assert.Equal(t, fam, *p.Name[0].Family)
	})
}

func TestServersTransactionRollsBack(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		kept, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)
		var tx fhir.Tx
		tx.Create(newPatient(fam))
		tx.Add("DELETE", "Patient/"+kept.ID, nil)
		tx.Add("GET", "Patient/"+unique(t), nil)
		_, err = conn.Transaction(ctx(t), &tx)
		assert.ErrorIs(t, err, rest.ErrNotFound)

		var got []string
		for p, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Add("family", fam)) {
			require.NoError(t, err)
			got = append(got, *p.Id)
		}
		assert.Equal(t, []string{kept.ID}, got, "the create and the delete were undone")
	})
}
