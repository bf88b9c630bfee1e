package fhir_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// A resource that breaks R4's base rules (an Observation without its
// required status) is refused on every write, by fhirtest as by the real
// server: create, update, patch and a transaction with such an entry answer
// 400, the error matches rest.ErrBadRequest and an issue names the
// element, and nothing is written. A service tested on fhirtest sees what production would.
func TestServersRefuseAnInvalidResourceOnWrite(t *testing.T) {
	forEachServer(t, func(t *testing.T, c *fhir.Conn, _ serverKind) {
		noStatus := json.RawMessage(`{"resourceType":"Observation","code":{"text":"heart rate"}}`)
		_, err := fhir.Create(ctx(t), c, &noStatus)
		assertRefused(t, err, "create")

		good, err := fhir.Create(ctx(t), c, &models.Observation{Status: models.ObservationStatusFinal,
			Code: models.CodeableConcept{Text: ptr("heart rate")}})
		require.NoError(t, err)
		update := json.RawMessage(fmt.Sprintf(`{"resourceType":"Observation","id":%q,"code":{"text":"pulse"}}`, good.ID))
		_, err = fhir.Update(ctx(t), c, &update)
		assertRefused(t, err, "update")
		_, err = fhir.Patch[models.Observation](ctx(t), c, good.ID, []fhir.PatchOp{{Op: "remove", Path: "/status"}})
		assertRefused(t, err, "patch")
		got, err := fhir.Read[models.Observation](ctx(t), c, good.ID)
		require.NoError(t, err)
		assert.Equal(t, good.VersionID, *got.Meta.VersionId, "the refused update and patch wrote nothing")
		assert.Equal(t, "heart rate", *got.Code.Text)

		fam := unique(t)
		var tx fhir.Tx
		tx.Create(newPatient(fam))
		tx.Create(&noStatus)
		_, err = c.Transaction(ctx(t), &tx)
		assertRefused(t, err, "transaction")
		for p, err := range fhir.Search[models.Patient](ctx(t), c, fhir.Params().Token("identifier", idSystem, fam)) {
			require.NoError(t, err)
			t.Errorf("the transaction wrote Patient/%s", *p.Id)
		}
	})
}

// assertRefused checks that err is a 400 whose issues name
// Observation.status.
func assertRefused(t *testing.T, err error, what string) {
	t.Helper()
	require.Error(t, err, what)
	assert.ErrorIs(t, err, rest.ErrBadRequest, "%s: %v", what, err)
	var fe *fhir.Error
	require.True(t, errors.As(err, &fe), "%s: %T", what, err)
	assert.Equal(t, http.StatusBadRequest, fe.StatusCode)
	named := false
	for _, is := range fe.Issues {
		for _, e := range is.Expression {
			named = named || (is.Severity == "error" && strings.Contains(e, "status"))
		}
	}
	assert.True(t, named, "%s: an error issue names Observation.status: %+v", what, fe.Issues)
}
