package oauthclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// newEchoServer is a misbehaving token endpoint that echoes the request
// (form and Authorization header) in an HTML error page.
func newEchoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "<html>bad request: "+string(b)+" auth="+r.Header.Get("Authorization")+"</html>")
	}))
	t.Cleanup(srv.Close)
	return srv
}
