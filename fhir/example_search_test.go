package fhir_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// activePatients is the right search loop: the error of the iteration is
// the failure of the search (return it: never "log and continue", which
// would answer a rejected search with an empty list), while the entries
// that did not decode are data of their page, listed apart.
func activePatients(ctx context.Context, conn *fhir.Conn) ([]*models.Patient, error) {
	var out []*models.Patient
	for page, err := range fhir.SearchPages[models.Patient](ctx, conn, fhir.Params().Add("active", "true")) {
		if err != nil {
			return nil, err // 401 after the resend, 5xx, bad paging: the search failed
		}
		for _, err := range page.Errors { // one entry that did not decode: the others are kept
			var de *fhir.DecodeError
			if errors.As(err, &de) {
				fmt.Println("skipped a", de.ResourceType, "with a bad", de.Path)
			}
		}
		out = append(out, page.Matches...)
	}
	return out, nil
}

func ExampleSearchPages() {
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[
			{"resource":{"resourceType":"Patient","id":"a"}},
			{"resource":{"resourceType":"Patient","id":"b","gender":"robot"}},
			{"resource":{"resourceType":"Patient","id":"c"}}]}`))
	}))
	defer srv.Close()
	conn, _ := fhir.New("ehr", srv.URL, srv.Client())
	ctx := context.Background()

	ps, err := activePatients(ctx, conn)
	fmt.Println(len(ps), "patients, error:", err)

	down.Store(true)
	ps, err = activePatients(ctx, conn)
	fmt.Println(len(ps), "patients, server error:", errors.Is(err, rest.ErrServerError))
	// Output:
	// skipped a Patient with a bad gender
	// 2 patients, error: <nil>
	// 0 patients, server error: true
}
