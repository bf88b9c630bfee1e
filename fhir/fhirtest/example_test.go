package fhirtest_test

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
	srv.RejectTokens(1) // the next request gets 401 whatever its token
	// Output: true
}
