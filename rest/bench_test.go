package rest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkGet compares a GET through a named connection (static bearer,
// and OAuth through the token source) with a raw http.Client that sets a
// fixed header: the physical limit. Same loopback server, same pool size.
// "raw-timeout" is the same raw client with a 30s http.Client.Timeout: any
// bound on a call makes the request's context cancellable, which costs the
// Go transport a few microseconds on loopback; a Conn always has one (its
// per-attempt timeout), so that is its like-for-like peer.
func BenchmarkGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42","name":"Ada"}`)
	}))
	defer srv.Close()
	ctx := context.Background()
	drain := func(b *testing.B, resp *http.Response, err error) {
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	raw := func(b *testing.B, timeout time.Duration) {
		tr, _ := newTransport(TLSConfig{}, PoolConfig{})
		client := &http.Client{Transport: tr, Timeout: timeout}
		url := srv.URL + "/api/customers/42"
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer fixed-token")
			resp, err := client.Do(req)
			drain(b, resp, err)
		}
	}
	b.Run("raw", func(b *testing.B) { raw(b, 0) })
	b.Run("raw-timeout", func(b *testing.B) { raw(b, 30*time.Second) })
	b.Run("conn", func(b *testing.B) {
		c, err := NewConn("crm", ConnConfig{BaseURL: srv.URL + "/api"}, Bearer("fixed-token"), Options{AllowInsecureHTTP: true})
		if err != nil {
			b.Fatal(err)
		}
		var r Registry
		r.Put(c)
		b.ReportAllocs()
		for b.Loop() {
			c, _ := r.Conn("crm")
			resp, err := c.Get(ctx, "customers/42")
			drain(b, resp, err)
		}
	})
	b.Run("conn-oauth", func(b *testing.B) {
		_, reg := oauthSetup(&testing.T{}, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"id":"42","name":"Ada"}`)
		})
		b.ReportAllocs()
		for b.Loop() {
			c, _ := reg.Conn("crm")
			resp, err := c.Get(ctx, "customers/42")
			drain(b, resp, err)
		}
	})
}
