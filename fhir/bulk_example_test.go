package fhir_test

import (
	"context"
	"fmt"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// A system-level export: kick it off, wait for the manifest while the
// server works, then stream each file. A line that does not decode goes
// to ExportBadLine and the file goes on; an error in the loop is the failure of
// the download, after which nothing comes: return it.
func ExampleConn_Export() {
	srv := fhirtest.NewServer(fhirtest.WithExportPolls(1))
	defer srv.Close()
	_, _ = srv.Seed(`{"resourceType":"Patient","id":"a"}`, `{"resourceType":"Patient","id":"b"}`)
	conn := srv.Conn("ehr") // in production: registry.FHIR("ehr")
	ctx := context.Background()

	opts := []fhir.ExportOption{
		fhir.ExportTypes("Patient"),
		fhir.ExportSince(time.Time{}), // or the TransactionTime of the previous export
		fhir.ExportSleep(func(context.Context, time.Duration) error { return nil }), // tests never wait; drop it in production
		fhir.ExportProgress(func(s fhir.ExportStatus) {
			if s.Manifest == nil {
				fmt.Printf("in progress (%s), next poll in %s\n", s.Progress, s.Wait)
			}
		}),
		fhir.ExportBadLine(func(bad *fhir.ExportLineError) { fmt.Println("skipped line", bad.Line) }),
	}
	x, err := conn.Export(ctx, opts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := x.Wait(ctx) // ctx bounds the whole export
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range m.Output {
		for p, err := range fhir.ExportFile[models.Patient](ctx, conn, m, f, opts...) {
			if err != nil {
				fmt.Println(err) // the download failed: never "continue"
				return
			}
			fmt.Println(f.Type, *p.Id)
		}
	}
	// Output:
	// in progress (0% done), next poll in 1s
	// Patient a
	// Patient b
}
