package fhir_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

var smartConfig = &fhir.SmartConfiguration{
	TokenEndpoint:                     "https://auth.example.com/token",
	TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
	TokenEndpointAuthSigningAlgs:      []string{"RS384", "ES384"},
	GrantTypesSupported:               []string{"client_credentials"},
	ScopesSupported:                   []string{"system/*.rs"},
	Capabilities:                      []string{"client-confidential-asymmetric"},
}

const wellKnown = ".well-known/smart-configuration"

func TestDiscoverCachedWithTTL(t *testing.T) {
	srv, _ := setup(t, fhirtest.WithSmartConfiguration(smartConfig))
	clock := &fixedClock{t: time.Unix(1_700_000_000, 0)}
	d := fhir.NewDiscovery(srv.Client(), fhir.WithTTL(time.Minute), fhir.WithClock(clock.Now))

	cfg, err := d.Discover(ctx(t), srv.URL())
	require.NoError(t, err)
	assert.Equal(t, "https://auth.example.com/token", cfg.TokenEndpoint)
	assert.True(t, cfg.SupportsBackendServices())
	assert.True(t, cfg.SupportsAuthMethod("private_key_jwt"))
	assert.False(t, cfg.SupportsAuthMethod("client_secret_basic"))

	cfg.ScopesSupported[0] = "mutated"
	again, err := d.Discover(ctx(t), srv.URL()+"/")
	require.NoError(t, err)
	assert.Equal(t, "system/*.rs", again.ScopesSupported[0], "callers get copies")
	assert.Equal(t, 1, srv.Hits("GET", wellKnown), "cached, trailing slash ignored")

	clock.t = clock.t.Add(61 * time.Second)
	_, err = d.Discover(ctx(t), srv.URL())
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Hits("GET", wellKnown), "refetched after the TTL")
}

// gate blocks requests until released, counting them.
type gate struct {
	doer    fhir.Doer
	arrived chan struct{}
	release chan struct{}
}

func (g *gate) Do(r *http.Request) (*http.Response, error) {
	g.arrived <- struct{}{}
	<-g.release
	return g.doer.Do(r)
}

func TestDiscoverSharesOneFetch(t *testing.T) {
	srv, _ := setup(t, fhirtest.WithSmartConfiguration(smartConfig))
	g := &gate{doer: srv.Client(), arrived: make(chan struct{}, 100), release: make(chan struct{})}
	d := fhir.NewDiscovery(g)

	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	cancelled, cancel := context.WithCancel(ctx(t))
	for i := range callers {
		c := ctx(t)
		if i == 0 {
			c = cancelled
		}
		wg.Go(func() {
			_, err := d.Discover(c, srv.URL())
			errs <- err
		})
	}
	<-g.arrived // the one fetch is in flight
	cancel()    // one caller gives up; the fetch goes on for the others
	close(g.release)
	wg.Wait()
	close(errs)
	var ok, canceled int
	for err := range errs {
		if err == nil {
			ok++
		} else {
			assert.ErrorIs(t, err, context.Canceled)
			canceled++
		}
	}
	assert.LessOrEqual(t, canceled, 1)
	assert.Equal(t, callers, ok+canceled)
	assert.Equal(t, 1, srv.Hits("GET", wellKnown), "one fetch for all callers")
	assert.Len(t, g.arrived, 0)
}

func TestDiscoverRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"missing", `{}`, 200, "no token_endpoint"},
		{"relative", `{"token_endpoint":"/token"}`, 200, "not an absolute URL"},
		{"not json", `<html>`, 200, "not a JSON configuration"},
		{"404", `{}`, 404, "status 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := statusServer(t, tt.status, tt.body)
			d := fhir.NewDiscovery(http.DefaultClient)
			_, err := d.Discover(ctx(t), conn.BaseURL())
			assert.ErrorContains(t, err, tt.want)
			_, err = d.Discover(ctx(t), conn.BaseURL())
			assert.Error(t, err, "failures are not cached")
		})
	}
}
