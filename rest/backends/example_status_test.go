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

// A status page or a health check reads one snapshot of the registry:
// every security definition with its token state, every connection with
// its calls, and the store. It holds no secret and no token, so it may be
// served as JSON as it is.
func ExampleRegistry_Status() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "integration", Secret: "s3cret", Scopes: []string{"crm.read"}})
	crm := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{}`)
	})))
	defer crm.Close()
	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": crm.URL}
	cfg, err := backends.Parse([]byte(`
security:
  crm-oauth: {type: oauth2, token_url: "${TOKEN_URL}", client_id: integration, client_secret: s3cret, scopes: [crm.read]}
  public: {type: none}
rest:
  crm: {base_url: "${CRM_URL}/api", security: crm-oauth}
  weather: {base_url: "${CRM_URL}/weather", security: public}
store:
  memory: {size: 64}
`), backends.WithLookupEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }), rest.AllowInsecureHTTP())
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
	conn, _ := reg.REST("crm")
	if resp, err := conn.Get(context.Background(), "customers/42"); err == nil {
		resp.Body.Close()
	}

	st := reg.Status()
	for _, s := range st.Security {
		if s.Token != nil {
			fmt.Printf("%s (%s): token %s, %d token request(s)\n", s.Name, s.Kind, s.Token.State, s.Token.Requests)
		} else {
			fmt.Printf("%s (%s)\n", s.Name, s.Kind)
		}
	}
	for _, c := range st.Connections {
		fmt.Printf("%s via %s: %d call(s), %d error(s), last status %d\n", c.Name, c.SecurityKind, c.Calls, c.Errors, c.LastStatus)
	}
	fmt.Printf("store: %s, healthy %t\n", st.Store.Kind, st.Store.Healthy)
	// Output:
	// crm-oauth (oauth2): token fresh, 1 token request(s)
	// public (none)
	// crm via oauth2: 1 call(s), 0 error(s), last status 200
	// weather via none: 0 call(s), 0 error(s), last status 0
	// store: memory, healthy true
}
