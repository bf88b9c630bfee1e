package fhir_test

import (
	"context"
	"fmt"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// A patient's whole record with $everything, page by page: resources of
// every type, each decoded to its model, and what they refer to. An
// Encounter's record is Everything(ctx, "Encounter", id, q).
func ExampleConn_Everything() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	conn := srv.Conn("ehr")
	_, _ = srv.Seed(
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Chalmers"}]}`,
		`{"resourceType":"Practitioner","id":"dr1","name":[{"family":"Careful"}]}`,
		`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"pulse"},"valueQuantity":{"value":72},
		  "subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/dr1"}]}`,
		`{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"cough"}}`,
		`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/other"}}`,
	)
	for e, err := range conn.Everything(context.Background(), "Patient", "p1", fhir.Params().Count(2)) { // two a page
		if err != nil {
			fmt.Println(err) // $everything failed: nothing follows
			return
		}
		if e.Err != nil {
			fmt.Println("skipped:", e.Err) // this one did not decode; the others come
			continue
		}
		switch r := e.Resource.(type) {
		case *models.Patient:
			fmt.Println("patient", *r.Name[0].Family)
		case *models.Observation:
			fmt.Println("observation", *r.Code.Text, *r.ValueQuantity.Value)
		case *models.Condition:
			fmt.Println("condition", *r.Code.Text)
		case *models.Practitioner:
			fmt.Println("practitioner", *r.Name[0].Family)
		}
	}
	// Output:
	// patient Chalmers
	// observation pulse 72
	// condition cough
	// practitioner Careful
}
