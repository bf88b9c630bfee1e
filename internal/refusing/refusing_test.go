package refusing

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// The address refuses, and stays refused while many servers start: none
// of them is given its port.
func TestURLRefusesAndIsNotReused(t *testing.T) {
	u := URL(t)
	for range 200 {
		s := httptest.NewServer(http.NotFoundHandler())
		if s.URL == u {
			t.Fatalf("a server was given the refusing address %s", u)
		}
		s.Close()
	}
	_, err := net.Dial("tcp", strings.TrimPrefix(u, "http://"))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", u, err)
	}
}
