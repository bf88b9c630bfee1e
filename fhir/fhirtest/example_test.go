package fhirtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

func Example() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	_, _ = srv.Seed(`{"resourceType":"Patient","id":"example","name":[{"family":"Chalmers"}]}`)

	conn := srv.Conn("ehr")
	ctx := context.Background()
	p, _ := fhir.Read[models.Patient](ctx, conn, "example")
	fmt.Println(*p.Name[0].Family, *p.Meta.VersionId)

	_ = conn.Delete(ctx, "Patient", "example")
	_, err := fhir.Read[models.Patient](ctx, conn, "example")
	fmt.Println(errors.Is(err, rest.ErrGone), srv.Requests())
	// Output:
	// Chalmers 1
	// true 3
}

// A protected server: plug in the token check of an authorization server
// (oauthtest.Server.Valid) and force 401s to test renew-and-retry.
func ExampleWithTokenCheck() {
	valid := func(tok string) bool { return tok == "good" }
	srv := fhirtest.NewServer(fhirtest.WithTokenCheck(valid))
	defer srv.Close()

	_, err := fhir.Read[models.Patient](context.Background(), srv.Conn("ehr"), "1")
	fmt.Println(errors.Is(err, rest.ErrUnauthorized))
	srv.FailNext(1, http.StatusUnauthorized) // the next request gets 401 whatever its token
	// Output: true
}

// Test how a service answers an EHR that fails: a search refused with 500
// ends the loop with an error (never "no results"); the failure is used
// up, so the next search runs.
func ExampleServer_FailNext() {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	conn := srv.Conn("ehr")
	search := func() (int, error) {
		n := 0
		for _, err := range fhir.Search[models.Observation](ctx, conn, fhir.Params().Add("code", "8867-4")) {
			if err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}

	srv.FailNext(1, http.StatusInternalServerError)
	_, err := search()
	fmt.Println("refused:", errors.Is(err, rest.ErrServerError))
	n, err := search()
	fmt.Println("then:", n, err)
	// Output:
	// refused: true
	// then: 0 <nil>
}
