package fhir_test

import (
	"context"
	"fmt"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// The subjects and performers of a search's Observations, without an
// _include: Resolve reads each Patient and Practitioner once, however
// many Observations name it.
func ExampleConn_Resolve() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	conn := srv.Conn("ehr")
	ctx := context.Background()
	_, _ = srv.Seed(
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Chalmers"}]}`,
		`{"resourceType":"Practitioner","id":"dr1","name":[{"family":"Careful"}]}`,
	)
	for range 3 {
		_, _ = fhir.Create(ctx, conn, &models.Observation{Status: models.ObservationStatusFinal, Code: models.CodeableConcept{Text: ptr("pulse")},
			Subject: &models.Reference{Reference: ptr("Patient/p1")}, Performer: []models.Reference{{Reference: ptr("Practitioner/dr1")}}})
	}

	var obs []*models.Observation
	var refs []models.Reference
	for o, err := range fhir.Search[models.Observation](ctx, conn, fhir.Params().Add("subject", "Patient/p1")) {
		if err != nil {
			fmt.Println(err)
			return
		}
		obs = append(obs, o)
		refs = append(append(refs, *o.Subject), o.Performer...)
	}
	got, err := conn.Resolve(ctx, nil, refs...)
	if err != nil {
		fmt.Println(err) // each reference that could not be resolved
	}
	for _, o := range obs {
		p := got[*o.Subject.Reference].(*models.Patient)
		dr := got[*o.Performer[0].Reference].(*models.Practitioner)
		fmt.Println(*o.Code.Text, "of", *p.Name[0].Family, "by", *dr.Name[0].Family)
	}
	fmt.Println("reads:", srv.Hits("GET", "Patient/p1"), srv.Hits("GET", "Practitioner/dr1"))
	// Output:
	// pulse of Chalmers by Careful
	// pulse of Chalmers by Careful
	// pulse of Chalmers by Careful
	// reads: 1 1
}
