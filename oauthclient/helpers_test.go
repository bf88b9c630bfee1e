package oauthclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newEchoServer is a misbehaving token endpoint that echoes the request
// (form and headers) in an HTML error page.
func newEchoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		var hdr strings.Builder
		_ = r.Header.Write(&hdr)
		_, _ = io.WriteString(w, "<html>bad request: "+string(b)+" headers: "+hdr.String()+"</html>")
	}))
	t.Cleanup(srv.Close)
	return srv
}
