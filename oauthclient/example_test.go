package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"golang.org/x/oauth2"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func Example() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "integration", Secret: "s3cret", Scopes: []string{"customers.read"}})
	crm := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":42}`)
	})))
	defer crm.Close()

	reg := oauthclient.NewRegistry(oauthclient.Options{AllowInsecureHTTP: true}) // test server only
	err := reg.Define(oauthclient.Config{
		Name: "crm", TokenURL: as.TokenURL(), ClientID: "integration", ClientSecret: oauthclient.NewSecret("s3cret"),
		Scopes: []string{"customers.read"},
	})
	if err != nil {
		panic(err)
	}
	client, err := reg.Client("crm", crm.URL)
	if err != nil {
		panic(err)
	}
	for range 3 {
		resp, err := client.Get(crm.URL + "/customers/42")
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	fmt.Println("token requests:", as.Requests("integration"))
	// Output:
	// 200 {"id":42}
	// 200 {"id":42}
	// 200 {"id":42}
	// token requests: 1
}

func ExampleSource_TokenContext() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw", Scopes: []string{"read"}})
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "svc", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw"),
		Scopes: []string{"read"},
	}, oauthclient.Options{AllowInsecureHTTP: true})
	if err != nil {
		panic(err)
	}
	tok, err := src.TokenContext(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Scheme(), tok.Scope(), as.Valid(tok.AccessToken()))
	fmt.Println(strings.Contains(fmt.Sprint(tok), tok.AccessToken())) // fmt never prints the value
	// Output:
	// Bearer read true
	// false
}

func ExampleRegistry_Source() {
	reg := oauthclient.NewRegistry(oauthclient.Options{})
	_ = reg.Define(oauthclient.Config{Name: "crm", TokenURL: "https://idp.example.com/token", ClientID: "a", ClientSecret: oauthclient.NewSecret("b")})
	_ = reg.Define(oauthclient.Config{Name: "erp", TokenURL: "https://idp.example.com/token", ClientID: "c", ClientSecret: oauthclient.NewSecret("d")})
	_, err := reg.Source("billing")
	fmt.Println(errors.Is(err, oauthclient.ErrUnknownDefinition))
	fmt.Println(err)
	// Output:
	// true
	// unknown security definition "billing" (known: crm, erp)
}

func ExampleError() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "right-secret"})
	src, _ := oauthclient.NewSource(oauthclient.Config{
		Name: "svc", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret("wrong-secret"),
	}, oauthclient.Options{AllowInsecureHTTP: true})
	_, err := src.TokenContext(context.Background())
	var e *oauthclient.Error
	fmt.Println(errors.Is(err, oauthclient.ErrInvalidClient), errors.As(err, &e) && e.StatusCode == 401)
	// Output:
	// true true
}

func ExampleFromOAuth2() {
	static := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "from-elsewhere"})
	src := oauthclient.NewSourceFrom("legacy", oauthclient.FromOAuth2(static), oauthclient.Options{})
	tok, _ := src.TokenContext(context.Background())
	fmt.Println(tok.AccessToken() == "from-elsewhere", tok.Scheme())
	// Output:
	// true Bearer
}

// A SMART Backend Services client of an EHR: the token endpoint is read
// from the server's smart-configuration before the first token request.
func ExampleSMARTBackendServices() {
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader) // in production: the key whose public half the EHR holds
	cfg, err := oauthclient.SMARTBackendServices("https://ehr.example.com/fhir/R4", oauthclient.Config{
		Name: "ehr", ClientID: "integration", PrivateKey: key, KeyID: "key-2026",
		Scopes: []string{"system/Patient.rs"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.AuthMethod, cfg.DiscoveryURL) // signed ES384: by the key's curve

	_, err = oauthclient.SMARTBackendServices("https://ehr.example.com/fhir/R4", oauthclient.Config{Name: "ehr", ClientID: "integration", PrivateKey: key})
	fmt.Println(err)
	// Output:
	// private_key_jwt https://ehr.example.com/fhir/R4/.well-known/smart-configuration
	// security definition "ehr": key_id: missing: SMART servers pick the key from the JWKS by kid
}
