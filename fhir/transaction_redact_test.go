package fhir_test

import (
	"errors"
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// A failed transaction or batch is an error that shows none of the search
// values its Bundle carried — If-None-Exist, a conditional update's URL, a
// conditional reference in a resource — even when the server echoes them
// in its diagnostics, as a search's error hides those of its URL.
func TestTransactionErrorHidesSearchValues(t *testing.T) {
	const ifNone, condURL, inRef = "MRN-112233", "MRN-445566", "MRN-778899"
	diag := `If-None-Exist identifier=urn:sys|` + ifNone + ` matched 2; PUT Patient?identifier=urn:sys%7C` + condURL +
		` matched 3; reference Patient?identifier=urn:sys|` + inRef + ` matched none`
	body := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"multiple-matches","diagnostics":"` + diag + `"}]}`
	for _, send := range []func(*fhir.Conn, *fhir.Tx) error{
		func(c *fhir.Conn, tx *fhir.Tx) error { _, err := c.Transaction(ctx(t), tx); return err },
		func(c *fhir.Conn, tx *fhir.Tx) error { _, err := c.Batch(ctx(t), tx); return err },
	} {
		conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = w.Write([]byte(body))
		})
		var tx fhir.Tx
		tx.Create(&models.Patient{}, fhir.IfNoneExist(byIdentifier("urn:sys", ifNone)))
		tx.Add("PUT", "Patient?"+byIdentifier("urn:sys", condURL).Values().Encode(), &models.Patient{})
		tx.Create(&models.Encounter{Status: models.EncounterStatusFinished, Subject: condRef("urn:sys", inRef)})
		err := send(conn, &tx)
		require.ErrorIs(t, err, rest.ErrPreconditionFailed)
		var fe *fhir.Error
		require.True(t, errors.As(err, &fe))
		var re *rest.Error
		require.True(t, errors.As(err, &re))
		require.Len(t, fe.Issues, 1)
		assert.Contains(t, fe.Issues[0].Diagnostics, "matched 2", "the rest of the diagnostics stays")
		for _, secret := range []string{ifNone, condURL, inRef} {
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, fe.Issues[0].Diagnostics, secret)
			assert.NotContains(t, re.Excerpt, secret)
		}
	}
}
