package fhir_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// The wiring of a service that calls one REST and one FHIR backend: one
// load, one open, one lookup per connection. The fakes stand in for an
// authorization server, a CRM and an EHR; ${...} carries their URLs.
func Example_service() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "s3cret"})
	crmAPI := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42","name":"Ada Lovelace"}`)
	})))
	defer crmAPI.Close()
	ehrAPI := fhirtest.NewServer(fhirtest.WithTokenCheck(as.Valid))
	defer ehrAPI.Close()
	id := "p-42"
	_, _ = ehrAPI.Seed(models.Patient{Id: &id, BirthDate: ptr("1815-12-10")})
	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": crmAPI.URL, "EHR_URL": ehrAPI.URL, "SECRET": "s3cret"}
	file := []byte(`
security:
  idp: {type: oauth2, token_url: '${TOKEN_URL}', client_id: svc, client_secret: '${SECRET}'}
rest:
  crm: {base_url: '${CRM_URL}', security: idp}
fhir:
  ehr: {base_url: '${EHR_URL}', security: idp}
`)
	ctx := context.Background()

	// The service's wiring.
	cfg, err := backends.Parse(file, rest.AllowInsecureHTTP(), // the fakes speak http
		backends.WithLookupEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }))
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := backends.Open(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	crm, err := reg.REST("crm")
	if err != nil {
		fmt.Println(err)
		return
	}
	ehr, err := reg.FHIR("ehr")
	if err != nil {
		fmt.Println(err)
		return
	}

	// Its calls, by connection.
	c, _ := rest.GetJSON[struct{ Name string }](ctx, crm, "customers/42")
	p, _ := fhir.Read[models.Patient](ctx, ehr, "p-42")
	fmt.Println(c.Name, "born", *p.BirthDate)
	fmt.Println("token requests:", as.Requests(""))
	// Output:
	// Ada Lovelace born 1815-12-10
	// token requests: 1
}
