package oauthclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

type echoingTransport struct{}

func (echoingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	return nil, fmt.Errorf("egress proxy refused %s with %s", b, r.Header.Get("Authorization"))
}

// TestTransportErrorsEchoingTheRequestAreScrubbed: a proxy quoting the
// token request's body and headers never puts the client secret in an
// error or a span.
func TestTransportErrorsEchoingTheRequestAreScrubbed(t *testing.T) {
	for _, m := range []AuthMethod{AuthClientSecretPost, AuthClientSecretBasic} {
		cfg := Config{Name: "crm", TokenURL: "https://auth.example.com/token", ClientID: "svc",
			ClientSecret: NewSecret("s3cr3t-value/+&"), AuthMethod: m}
		src, err := NewSource(cfg, Options{HTTPClient: &http.Client{Transport: echoingTransport{}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.TokenContext(context.Background())
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "czNjcjN0") {
			t.Fatalf("%s: %v", m, err)
		}
		if !strings.Contains(err.Error(), "egress proxy refused") {
			t.Fatalf("%s: the cause is kept: %v", m, err)
		}
		if st := src.Status(); strings.Contains(st.LastError, "s3cr3t") {
			t.Fatalf("status: %s", st.LastError)
		}
		src.Close()
	}
}
