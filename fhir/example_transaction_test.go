package fhir_test

import (
	"context"
	"fmt"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// A transaction whose resources refer to each other: the Observation
// names the Patient created with it by the urn:uuid: the builder handed
// out, the Encounter names a Patient already there by a conditional
// reference, and the Patient is created only if no Patient has its
// identifier. Each result comes back under the key the builder gave.
func ExampleConn_Transaction() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	conn := srv.Conn("ehr")
	ctx := context.Background()
	const mrn = "urn:oid:1.2.36.146.595.217.0.1"
	_, _ = srv.Seed(`{"resourceType":"Patient","id":"known","identifier":[{"system":"` + mrn + `","value":"7"}]}`)

	send := func() {
		var tx fhir.Tx
		pat := tx.Create(&models.Patient{Identifier: []models.Identifier{{System: ptr(mrn), Value: ptr("42")}}},
			fhir.IfNoneExist(fhir.Params().Token("identifier", mrn, "42")))
		obs := tx.Create(&models.Observation{Status: models.ObservationStatusFinal,
			Code: models.CodeableConcept{Text: ptr("pulse")}, Subject: &models.Reference{Reference: &pat}})
		enc := tx.Create(&models.Encounter{Status: models.EncounterStatusFinished, Class: models.Coding{Code: ptr("AMB")},
			Subject: &models.Reference{Reference: ptr("Patient?identifier=" + mrn + "|7")}})
		res, err := conn.Transaction(ctx, &tx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("patient:", res[pat].Status, res[pat].ID, "version", res[pat].VersionID)
		fmt.Println("observation of", *res[obs].Resource.(*models.Observation).Subject.Reference)
		fmt.Println("encounter of", *res[enc].Resource.(*models.Encounter).Subject.Reference)
	}
	send()
	send() // the Patient exists now: it is found, not created again
	// Output:
	// patient: 201 1 version 1
	// observation of Patient/1
	// encounter of Patient/known
	// patient: 200 1 version 1
	// observation of Patient/1
	// encounter of Patient/known
}

// A batch: each entry succeeds or fails alone.
func ExampleConn_Batch() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	conn := srv.Conn("ehr")
	_, _ = srv.Seed(`{"resourceType":"Patient","id":"p1"}`)

	var tx fhir.Tx
	found := tx.Add("GET", "Patient/p1", nil)
	missing := tx.Add("GET", "Patient/p2", nil)
	res, err := conn.Batch(context.Background(), &tx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(found, res[found].Status)
	fmt.Println(missing, res[missing].Status, res[missing].Issues[0].Code)
	// Output:
	// Patient/p1 200
	// Patient/p2 404 not-found
}
