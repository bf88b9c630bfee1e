package oauthclient_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fmtAll prints v with the common verbs.
func fmtAll(v any) string { return fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v) }

// newEchoServer is a misbehaving token or login endpoint that echoes the
// request (headers, query and body) in an HTML error page.
func newEchoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		var hdr strings.Builder
		for k, vs := range r.Header {
			if k == "Authorization" || strings.HasPrefix(k, "X-") {
				hdr.WriteString(k + "=" + strings.Join(vs, ",") + " ")
			}
		}
		_, _ = io.WriteString(w, "<html>"+hdr.String()+"query: "+r.URL.RawQuery+" body: "+string(b)+"</html>")
	}))
	t.Cleanup(srv.Close)
	return srv
}
