package fhir_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// A SMART Backend Services connection from a configuration file: the
// definition has no token_url; the FHIR server's smart-configuration
// names the token endpoint.
func ExampleNewRegistry() {
	// The fakes: an authorization server that knows the client's public
	// key, and a FHIR server that points at it.
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddJWTClient("ehr-client", key.Public(), "key-1", "system/Patient.rs")
	srv := fhirtest.NewServer(fhirtest.WithTokenCheck(as.Valid), fhirtest.WithSmartConfiguration(&fhir.SmartConfiguration{
		TokenEndpoint: as.TokenURL(), TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
	}))
	defer srv.Close()
	family := "Chalmers"
	_, _ = srv.Seed(models.Patient{Id: &family, Name: []models.HumanName{{Family: &family}}})

	const config = `
security:
  ehr-smart:
    type: oauth2
    client_id: ehr-client
    private_key: ${EHR_KEY}   # in production: file:/run/secrets/ehr-key.pem
    key_id: key-1
    scopes: [system/Patient.rs]
fhir:
  ehr: {base_url: '${EHR_URL}', security: ehr-smart, smart: true}
`
	env := map[string]string{"EHR_URL": srv.URL(), "EHR_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
	cfg, err := rest.ParseConfig([]byte(config), rest.AllowInsecureHTTP(), // the fakes speak http
		rest.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	reg, _ := rest.NewRegistry(ctx, cfg, rest.RegistryOptions{Options: rest.Options{AllowInsecureHTTP: true}})
	defer reg.Close()
	fhirReg, err := fhir.NewRegistry(ctx, cfg, reg)
	if err != nil {
		fmt.Println(err)
		return
	}

	ehr, _ := fhirReg.Conn("ehr")
	for range 3 {
		p, err := fhir.Read[models.Patient](ctx, ehr, "Chalmers")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(*p.Name[0].Family)
	}
	fmt.Println("token requests:", as.Requests("ehr-client"))
	// Output:
	// Chalmers
	// Chalmers
	// Chalmers
	// token requests: 1
}
