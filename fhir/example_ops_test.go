package fhir_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// The lab test code system, value sets and concept map that fhirtest
// knows (see the fhirtest package documentation).
const (
	labTests     = "http://example.org/fhir/CodeSystem/lab-tests"
	diabetesLabs = "http://example.org/fhir/ValueSet/diabetes-labs"
	labsToLOINC  = "http://example.org/fhir/ConceptMap/lab-tests-to-loinc"
)

func ExampleValidate() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ehr := srv.Conn("ehr")
	ctx := context.Background()

	p := &models.Patient{Name: []models.HumanName{{Family: ptr("Chalmers")}}, Gender: ptr(models.AdministrativeGenderMale)}
	valid, issues, err := fhir.Validate(ctx, ehr, p, "", "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient")
	if err != nil {
		fmt.Println("the validation failed:", err) // not an invalid resource: the call itself
		return
	}
	fmt.Println("valid:", valid)
	for _, is := range issues {
		fmt.Println(is.Severity, is.Code, "at", strings.Join(is.Expression, ", "))
	}
	// Output:
	// valid: false
	// error required at Patient.identifier
}

func ExampleConn_Expand() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ehr := srv.Conn("ehr")

	vs, err := ehr.Expand(context.Background(), diabetesLabs, url.Values{"filter": {"glu"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*vs.Expansion.Total, "of", diabetesLabs)
	for _, c := range vs.Expansion.Contains {
		fmt.Println(*c.Code, *c.Display)
	}
	// Output:
	// 1 of http://example.org/fhir/ValueSet/diabetes-labs
	// GLU Glucose
}

func ExampleConn_Lookup() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ehr := srv.Conn("ehr")

	c, err := ehr.Lookup(context.Background(), models.Coding{System: ptr(labTests), Code: ptr("HBA1C")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*c.Display)
	for _, d := range c.Designation {
		fmt.Println(*d.Language, d.Value)
	}
	for _, p := range c.Property {
		fmt.Println(p.Code, p.ValueString)
	}
	// Output:
	// Hemoglobin A1c
	// de Hämoglobin A1c
	// units %
}

func ExampleConn_ValidateCode() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ehr := srv.Conn("ehr")
	ctx := context.Background()

	for _, code := range []string{"GLU", "CHOL"} {
		ok, message, err := ehr.ValidateCode(ctx, diabetesLabs, models.Coding{System: ptr(labTests), Code: &code})
		if err != nil {
			fmt.Println(err) // the call failed; a code outside the set is no error
			return
		}
		fmt.Println(code, ok)
		if message != "" {
			fmt.Println(" ", message)
		}
	}
	// Output:
	// GLU true
	// CHOL false
	//   the code "CHOL" of http://example.org/fhir/CodeSystem/lab-tests is not in http://example.org/fhir/ValueSet/diabetes-labs
}

func ExampleConn_Translate() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ehr := srv.Conn("ehr")
	ctx := context.Background()

	for _, code := range []string{"K", "GLU-OLD"} {
		groups, err := ehr.Translate(ctx, labsToLOINC, models.Coding{System: ptr(labTests), Code: &code}, "http://loinc.org")
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, g := range groups { // one group per target system
			for _, t := range g.Element[0].Target {
				switch t.Equivalence {
				case models.ConceptMapEquivalenceUnmatched, models.ConceptMapEquivalenceDisjoint:
					fmt.Println(code, "has no LOINC code")
				default:
					fmt.Println(code, "→", *g.Target, *t.Code, "("+t.Equivalence.Code()+")")
				}
			}
		}
	}
	// Output:
	// K → http://loinc.org 2823-3 (narrower)
	// GLU-OLD has no LOINC code
}

func ExampleCompartment() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ehr := srv.Conn("ehr")
	ctx := context.Background()
	_, _ = srv.Seed(
		`{"resourceType":"Observation","id":"hr","status":"final","code":{"text":"heart rate"},"subject":{"reference":"Patient/123"}}`,
		`{"resourceType":"Observation","id":"by-123","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/9"},"performer":[{"reference":"Patient/123"}]}`,
		`{"resourceType":"Observation","id":"other","status":"final","code":{"text":"heart rate"},"subject":{"reference":"Patient/9"}}`)

	// GET Patient/123/Observation: what the patient's compartment holds,
	// through subject or performer.
	for o, err := range fhir.Search[models.Observation](ctx, ehr, nil, fhir.Compartment("Patient", "123")) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(*o.Id)
	}
	// Output:
	// hr
	// by-123
}

// A search whose URL would be longer than 8 KiB is sent as POST
// [type]/_search with a form body, without the caller choosing it; a
// shorter one refused by a proxy with 414 is sent again that way.
func ExampleSearch_longQuery() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ehr := srv.Conn("ehr")
	_, _ = srv.Seed(`{"resourceType":"Patient","id":"p0042"}`)

	ids := make([]string, 1500) // from a list held elsewhere
	for i := range ids {
		ids[i] = fmt.Sprintf("p%04d", i)
	}
	for p, err := range fhir.Search[models.Patient](context.Background(), ehr, fhir.Params().Add("_id", ids...)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(*p.Id)
	}
	fmt.Println(srv.Hits("POST", "Patient/_search"), "POST,", srv.Hits("GET", "Patient"), "GET")
	// Output:
	// p0042
	// 1 POST, 0 GET
}
