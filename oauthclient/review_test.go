package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/oauth2"
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

// TestCollectionWhileSourcesAreCreated: an SDK reader collecting while
// sources are made and closed never sees a half-built source.
func TestCollectionWhileSourcesAreCreated(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			src := NewSourceFrom("d", FromOAuth2(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})), Options{MeterProvider: mp})
			src.Close()
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		}
	}
}
