package backends_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

type Customer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// A configuration declares security definitions and connections; the
// service then calls backends by name. Here the authorization server and
// the CRM are in-process fakes whose URLs fill the ${...} references.
func Example() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "integration", Secret: "s3cret", Scopes: []string{"crm.read"}})
	crm := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42","name":"Ada Lovelace"}`)
	})))
	defer crm.Close()

	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": crm.URL, "CRM_SECRET": "s3cret"}
	cfg, err := backends.Parse([]byte(`
security:
  crm-oauth:
    type: oauth2
    token_url: ${TOKEN_URL}
    client_id: integration
    client_secret: ${CRM_SECRET}
    scopes: [crm.read]
rest:
  crm:
    base_url: ${CRM_URL}/api
    security: crm-oauth
`), backends.WithLookupEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }), rest.AllowInsecureHTTP())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	reg, err := backends.Open(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	conn, err := reg.REST("crm")
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		c, err := rest.GetJSON[Customer](ctx, conn, "customers/42")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Name)
	}
	fmt.Println("token requests:", as.Requests(""))
	// Output:
	// Ada Lovelace
	// Ada Lovelace
	// Ada Lovelace
	// token requests: 1
}

// Loading fails with every problem, each naming the entry and the field.
func ExampleParse_problems() {
	_, err := backends.Parse([]byte(`
security:
  crm-oauth: {type: oauth2, token_url: https://login.example.com/token, client_id: svc, client_secret: "${CRM_SECRET}"}
rest:
  crm: {base_url: https://crm.example.com, security: crm-oauth, timout: 5s}
  billing: {base_url: "billing.example.com", security: billing-key}
`), backends.WithLookupEnv(func(string) (string, bool) { return "", false }))
	fmt.Println(err)
	// Output:
	// backends: config: 4 problems:
	// 	rest "billing": base_url: must be an absolute http(s) URL (line 6)
	// 	rest "billing": security: unknown security definition "billing-key" (known: crm-oauth) (line 6)
	// 	rest "crm": timout: unknown field (did you mean "timeout"?) (line 5)
	// 	security "crm-oauth": client_secret: environment variable CRM_SECRET is not set (line 3)
}

// Registry.REST names the known connections when asked for another.
func ExampleRegistry_REST() {
	cfg, err := backends.Parse([]byte(`
rest:
  crm: {base_url: https://crm.example.com}
  billing: {base_url: https://billing.example.com}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := backends.Open(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	_, err = reg.REST("erp")
	fmt.Println(err)
	// Output:
	// backends: unknown connection "erp" (known: billing, crm)
}
