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
		var hdr strings.Builder // credentials first: the excerpt is short
		for k, vs := range r.Header {
			if k != "Accept" && k != "Accept-Encoding" && k != "Content-Type" && k != "User-Agent" && k != "Content-Length" {
				hdr.WriteString(k + "=" + strings.Join(vs, ",") + " ")
			}
		}
		_, _ = io.WriteString(w, "<html>"+hdr.String()+"body: "+string(b)+"</html>")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// scheduled reports whether an attempt is scheduled for the end of a
// backoff (a caller waits for it).
func (s *Source) scheduled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next != nil
}
