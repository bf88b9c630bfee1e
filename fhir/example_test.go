package fhir_test

import (
	"context"
	"errors"
	"fmt"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

func Example() {
	srv := fhirtest.NewServer() // in production: fhir.New(name, baseURL, oauthclientHTTPClient)
	defer srv.Close()
	conn, _ := fhir.New("ehr", srv.URL, srv.Client())
	ctx := context.Background()

	family := "Chalmers"
	res, err := fhir.Create(ctx, conn, &models.Patient{Name: []models.HumanName{{Family: &family, Given: []string{"Peter"}}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created", res.ID, "version", res.VersionID)

	p, _ := fhir.Read[models.Patient](ctx, conn, res.ID)
	active := true
	p.Active = &active
	upd, _ := fhir.Update(ctx, conn, p) // If-Match: W/"1"
	fmt.Println("updated to version", upd.VersionID)

	_, err = fhir.Update(ctx, conn, p) // p still says version 1
	fmt.Println("stale update:", errors.Is(err, rest.ErrPreconditionFailed))
	// Output:
	// created 1 version 1
	// updated to version 2
	// stale update: true
}

func ExampleSearch() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	for _, name := range []string{"Ada", "Alan", "Grace", "Edsger", "Barbara"} {
		family := "Pioneer"
		_, _ = srv.Seed(models.Patient{Name: []models.HumanName{{Family: &family, Given: []string{name}}}})
	}
	conn := srv.Conn("ehr")

	q := fhir.Params().Add("family", "pioneer").Add("_sort", "given").Count(2) // pages of two
	for p, err := range fhir.Search[models.Patient](context.Background(), conn, q) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.Name[0].Given[0])
	}
	fmt.Println("pages:", srv.Hits("GET", "Patient"))
	// Output:
	// Ada
	// Alan
	// Barbara
	// Edsger
	// Grace
	// pages: 3
}

func ExampleDecodeResource() {
	v, _ := fhir.DecodeResource([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"weight"}}`))
	switch r := v.(type) {
	case *models.Observation:
		fmt.Println("Observation", *r.Code.Text)
	default:
		fmt.Printf("%T\n", r)
	}
	v, _ = fhir.DecodeResource([]byte(`{"resourceType":"Basic"}`))
	fmt.Printf("%T\n", v)
	// Output:
	// Observation weight
	// json.RawMessage
}

func ExampleError() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	conn := srv.Conn("ehr")
	_, err := fhir.Read[models.Patient](context.Background(), conn, "missing")
	var fe *fhir.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.StatusCode, fe.Issues[0].Code, errors.Is(err, rest.ErrNotFound))
	}
	// Output: 404 not-found true
}
