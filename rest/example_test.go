package rest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

type Customer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// A connection authenticated with OAuth client credentials: one token for
// every call, renewed before it expires. (A configuration file declares
// the same with package rest/backends.) Here the authorization server and
// the CRM are in-process fakes.
func Example() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "integration", Secret: "s3cret", Scopes: []string{"crm.read"}})
	crm := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42","name":"Ada Lovelace"}`)
	})))
	defer crm.Close()

	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm-oauth", TokenURL: as.TokenURL(), ClientID: "integration",
		ClientSecret: oauthclient.NewSecret("s3cret"), Scopes: []string{"crm.read"}}, oauthclient.Options{AllowInsecureHTTP: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	conn, err := rest.NewConn("crm", rest.ConnConfig{BaseURL: crm.URL + "/api"}, rest.OAuth(src), rest.AllowInsecureHTTP())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for range 3 {
		c, err := rest.GetJSON[Customer](ctx, conn, "customers/"+url.PathEscape("42"))
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

// A connection can use any security kind; a non-2xx status is an *Error
// matched by the sentinels.
func ExampleNewConn() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "k-123" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"no such invoice"}`)
	}))
	defer backend.Close()

	conn, err := rest.NewConn("billing", rest.ConnConfig{BaseURL: backend.URL + "/v1"},
		rest.APIKeyHeader("X-API-Key", "k-123"), rest.AllowInsecureHTTP())
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = conn.Get(context.Background(), "invoices/7")
	var e *rest.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Excerpt, errors.Is(err, rest.ErrNotFound))
	}
	// Output:
	// 404 {"error":"no such invoice"} true
}
