package fhir_test

import (
	"context"
	"fmt"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// A local copy is kept current with conditional reads: the server answers
// 304 Not Modified, without the resource, until it changes.
func ExampleRefresh() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	conn := srv.Conn("ehr")
	ctx := context.Background()
	family := "Chalmers"
	_, _ = srv.Seed(models.Patient{Id: &family, Name: []models.HumanName{{Family: &family}}})

	cur, err := fhir.ReadMeta[models.Patient](ctx, conn, "Chalmers")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("read version", cur.VersionID, "ETag", cur.ETag)

	cur, _ = fhir.Refresh(ctx, conn, cur) // If-None-Match: W/"1"
	fmt.Println("not modified:", cur.NotModified, "still", *cur.Resource.Name[0].Family)

	active := true
	p := *cur.Resource
	p.Active = &active
	_, _ = fhir.Update(ctx, conn, &p)

	cur, _ = fhir.Refresh(ctx, conn, cur)
	fmt.Println("not modified:", cur.NotModified, "now version", cur.VersionID)

	ok, _ := conn.Supports(ctx, "Patient", "patch") // metadata, read once
	fmt.Println("patch supported:", ok)
	// Output:
	// read version 1 ETag W/"1"
	// not modified: true still Chalmers
	// not modified: false now version 2
	// patch supported: true
}
