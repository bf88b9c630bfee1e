package fhir_test

import (
	"context"
	"fmt"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// The versions of a Patient, newest first, and then only those made
// since an instant (_since; _at asks for the versions current at a time).
// The same call with id "" reads a type's history, and with type and id
// "" the whole server's.
func ExampleConn_History() {
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	srv := fhirtest.NewServer(fhirtest.WithClock(func() time.Time { clock = clock.Add(time.Hour); return clock }))
	defer srv.Close()
	conn := srv.Conn("ehr")
	ctx := context.Background()

	res, _ := fhir.Create(ctx, conn, &models.Patient{Name: []models.HumanName{{Family: ptr("Chalmers")}}})
	p := res.Resource
	p.Name[0].Family = ptr("Chalmers-Smith")
	_, _ = fhir.Update(ctx, conn, p)
	_ = conn.Delete(ctx, "Patient", res.ID)

	show := func(q *fhir.Query) {
		for e, err := range conn.History(ctx, "Patient", res.ID, q) {
			if err != nil {
				fmt.Println(err) // the history failed: nothing follows
				return
			}
			family := "-"
			if p, ok := e.Resource.(*models.Patient); ok { // nil for the deletion
				family = *p.Name[0].Family
			}
			fmt.Println(e.VersionID, e.Method, e.LastModified.Format(time.Kitchen), family)
		}
	}
	show(nil)
	fmt.Println("since 11:00:")
	show(fhir.Params().Add("_since", "2026-03-01T11:00:00Z"))
	// Output:
	// 3 DELETE 12:00PM -
	// 2 PUT 11:00AM Chalmers-Smith
	// 1 POST 10:00AM Chalmers
	// since 11:00:
	// 3 DELETE 12:00PM -
	// 2 PUT 11:00AM Chalmers-Smith
}
