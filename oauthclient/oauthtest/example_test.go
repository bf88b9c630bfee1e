package oauthtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// A test starts the server, registers a client, points the code under test
// at TokenURL and checks how often the server was asked.
func Example() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "crm", Secret: "s3cret", Scopes: []string{"read", "write"}})

	cfg := clientcredentials.Config{
		ClientID:     "crm",
		ClientSecret: "s3cret",
		TokenURL:     as.TokenURL(),
		Scopes:       []string{"read"},
	}
	ts := cfg.TokenSource(context.Background())
	for range 3 {
		if _, err := ts.Token(); err != nil { // cached after the first call
			fmt.Println(err)
			return
		}
	}
	tok, _ := ts.Token()
	fmt.Println(tok.TokenType, tok.Extra("scope"), as.Valid(tok.AccessToken))
	fmt.Println("token requests:", as.Requests("crm"))
	// Output:
	// Bearer read true
	// token requests: 1
}

// The token endpoint speaks plain HTTP: a form POST with the client's
// credentials.
func ExampleServer_TokenURL() {
	as := oauthtest.NewServer(oauthtest.WithTokenLifetime(5 * time.Minute))
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "crm", Secret: "s3cret"})

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"crm"}, "client_secret": {"s3cret"}}
	resp, err := as.Client().PostForm(as.TokenURL(), form)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var body struct {
		TokenType string `json:"token_type"`
		ExpiresIn int    `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	last, _ := as.LastRequest()
	fmt.Println(resp.StatusCode, body.TokenType, body.ExpiresIn, last.AuthMethod)
	// Output: 200 Bearer 300 client_secret_post
}

// Inject an outage: the next two requests answer 503 with Retry-After.
func ExampleServer_FailNext() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "crm", Secret: "s3cret"})
	as.FailNext(2, oauthtest.Response{
		Status:      http.StatusServiceUnavailable,
		ContentType: "text/plain",
		Body:        "try later",
		Header:      http.Header{"Retry-After": {"1"}},
	})

	form := url.Values{"grant_type": {"client_credentials"}}
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, as.TokenURL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("crm", "s3cret")
		resp, err := as.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Printf("%d %q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Output:
	// 503 "1"
	// 503 "1"
	// 200 ""
}

// A fake backend accepts only tokens the server issued and that are still
// valid by the server's clock, which the test moves instead of sleeping.
func ExampleServer_RequireToken() {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	as := oauthtest.NewServer(
		oauthtest.WithClock(func() time.Time { return now }),
		oauthtest.WithTokenLifetime(time.Hour),
	)
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "crm", Secret: "s3cret"})

	backend := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "customers")
	})))
	defer backend.Close()

	cfg := clientcredentials.Config{ClientID: "crm", ClientSecret: "s3cret", TokenURL: as.TokenURL()}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	call := func() {
		req, _ := http.NewRequest(http.MethodGet, backend.URL, nil)
		tok.SetAuthHeader(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Printf("%d %q\n", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	call()
	now = now.Add(time.Hour) // the token expires
	call()
	// Output:
	// 200 ""
	// 401 "Bearer realm=\"oauthtest\", error=\"invalid_token\", error_description=\"the access token is not valid\""
}

// SetShape makes successful answers look like those of a non-standard
// server, for tests of a token-response parser.
func ExampleServer_SetShape() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "crm", Secret: "s3cret"})
	as.SetShape(oauthtest.JSONWith(map[string]any{"expires_in": "3600", "token_type": "BearerToken"}))

	cfg := clientcredentials.Config{ClientID: "crm", ClientSecret: "s3cret", TokenURL: as.TokenURL(),
		AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.TokenType, tok.Extra("expires_in"), !tok.Expiry.IsZero())
	// Output: BearerToken 3600 true
}

// A refresh token used twice revokes its family, as servers with reuse
// detection do: a test can prove that a client never does that.
func ExampleServer_IssueRefreshToken() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"files.read"}})
	rt := as.IssueRefreshToken("app", "alice", "files.read")
	refresh := func(v string) (string, string) {
		resp, err := http.PostForm(as.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {v}, "client_id": {"app"}})
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var m struct {
			RefreshToken string `json:"refresh_token"`
			Error        string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m.RefreshToken, m.Error
	}
	next, _ := refresh(rt)   // rotated
	_, err := refresh(rt)    // reused: the family is revoked
	_, err2 := refresh(next) // so the newest is gone too
	fmt.Println(next != rt, err, err2, as.RefreshStats().Reused)
	// Output: true invalid_grant invalid_grant 1
}
