package oauthclient_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/fakeclock"
	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// parallelism is the RunParallel multiplier: 32 goroutines per CPU.
const parallelism = 32

// peer is one token or HTTP call measured side by side with others.
type peer struct {
	name string
	call func() error
}

// runPeers runs every peer serially and in parallel, each as a sub-benchmark.
func runPeers(b *testing.B, peers []peer) {
	for _, p := range peers {
		b.Run("serial/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, p := range peers {
		b.Run("parallel/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func staticOAuth2(access string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)})
}

// sdkOptions installs a real OpenTelemetry SDK: a meter provider on a
// manual reader (nothing collects during the benchmark, as between two
// scrapes) and a tracer provider sampling every span into a batch
// processor whose exporter drops them.
func sdkOptions(b *testing.B) oauthclient.Options {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })
	return oauthclient.Options{MeterProvider: mp, TracerProvider: tp}
}

// BenchmarkToken compares getting a warm token: our source (with the
// global no-op telemetry, and with a real SDK installed) against x/oauth2's
// ReuseTokenSource and clientcredentials token source.
func BenchmarkToken(b *testing.B) {
	ctx := context.Background()
	ours := oauthclient.NewSourceFrom("bench", oauthclient.FromOAuth2(staticOAuth2("tok")), oauthclient.Options{})
	withSDK := oauthclient.NewSourceFrom("bench-sdk", oauthclient.FromOAuth2(staticOAuth2("tok")), sdkOptions(b))
	// A store (here the memory store, which locks) is asked only by the
	// fetch: the warm path is the same atomic load.
	withStore := oauthclient.NewSourceFrom("bench-store", oauthclient.FromOAuth2(staticOAuth2("tok")), oauthclient.Options{Store: cache.NewMemory(0)})
	// A definition whose certificate files are watched for rotation: the
	// files are looked at by handshakes and fetches, never by a warm call.
	withCertFiles := certFileSource(b)
	reuse := oauth2.ReuseTokenSource(nil, staticOAuth2("tok"))
	as, _ := newAuthServer(b)
	cc := (&clientcredentials.Config{ClientID: testClient, ClientSecret: testSecret, TokenURL: as.TokenURL()}).TokenSource(ctx)
	for _, warm := range []func() error{
		func() error { _, err := ours.TokenContext(ctx); return err },
		func() error { _, err := withSDK.TokenContext(ctx); return err },
		func() error { _, err := withStore.TokenContext(ctx); return err },
		func() error { _, err := withCertFiles.TokenContext(ctx); return err },
		func() error { _, err := reuse.Token(); return err },
		func() error { _, err := cc.Token(); return err },
	} {
		require.NoError(b, warm())
	}
	runPeers(b, []peer{
		{"tokenwire-TokenContext", func() error { _, err := ours.TokenContext(ctx); return err }},
		{"tokenwire-Token", func() error { _, err := ours.Token(); return err }},
		{"tokenwire-TokenContext-otel-sdk", func() error { _, err := withSDK.TokenContext(ctx); return err }},
		{"tokenwire-Token-otel-sdk", func() error { _, err := withSDK.Token(); return err }},
		{"tokenwire-TokenContext-memory-store", func() error { _, err := withStore.TokenContext(ctx); return err }},
		{"tokenwire-TokenContext-cert-files", func() error { _, err := withCertFiles.TokenContext(ctx); return err }},
		{"xoauth2-ReuseTokenSource", func() error { _, err := reuse.Token(); return err }},
		{"xoauth2-clientcredentials", func() error { _, err := cc.Token(); return err }},
	})
}

// certFileSource is a source authenticating with a certificate read from
// files (tls_client_auth), against a loopback mTLS server.
func certFileSource(b *testing.B) *oauthclient.Source {
	srv := newBoundServers(b)
	cp, kp := testcert.PEM(b, testcert.SelfSigned(b, "bench"))
	dir := b.TempDir()
	replaceFile(b, dir+"/c.pem", cp)
	replaceFile(b, dir+"/k.pem", kp)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "bench-mtls", TokenURL: srv.as.URL, ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
		CertFile: dir + "/c.pem", KeyFile: dir + "/k.pem", RootCAs: srv.roots()}, oauthclient.Options{})
	require.NoError(b, err)
	b.Cleanup(src.Close)
	return src
}

// newBase returns a loopback transport whose keep-alive pool holds every
// parallel caller's connection, so that no peer pays for new connections.
func newBase() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 1024
	return t
}

// BenchmarkTransportGET compares a GET through our transport against a raw
// http.Client setting a fixed Authorization header (the physical limit) and
// x/oauth2's Transport. Each peer gets its own base transport with the same
// pool settings. Ours is built as NewClient builds it, with that base.
func BenchmarkTransportGET(b *testing.B) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"id":42}`)
	}))
	b.Cleanup(api.Close)
	src := oauthclient.NewSourceFrom("bench", oauthclient.FromOAuth2(staticOAuth2("tok")), oauthclient.Options{AllowInsecureHTTP: true})

	raw := &http.Client{Transport: newBase()}
	ourTr, err := oauthclient.NewTransport(src, newBase(), api.URL)
	require.NoError(b, err)
	ours := &http.Client{Transport: ourTr}
	opts := sdkOptions(b)
	opts.AllowInsecureHTTP = true
	sdkTr, err := oauthclient.NewTransport(oauthclient.NewSourceFrom("bench-sdk", oauthclient.FromOAuth2(staticOAuth2("tok")), opts), newBase(), api.URL)
	require.NoError(b, err)
	xo := &http.Client{Transport: &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, staticOAuth2("tok")), Base: newBase()}}
	auth := "Bearer tok"
	runPeers(b, []peer{
		{"raw-fixed-header", getter(raw, api.URL+"/customers/42", auth)},
		{"tokenwire-Transport", getter(ours, api.URL+"/customers/42", "")},
		{"tokenwire-Transport-otel-sdk", getter(&http.Client{Transport: sdkTr}, api.URL+"/customers/42", "")},
		{"xoauth2-Transport", getter(xo, api.URL+"/customers/42", "")},
	})
}

// renewalCallers is how many callers ask for a token during one renewal.
const renewalCallers = 100

// maxWait runs renewalCallers concurrent calls and returns the longest.
func maxWait(b *testing.B, call func() error) time.Duration {
	var mu sync.Mutex
	var longest time.Duration
	var wg sync.WaitGroup
	for range renewalCallers {
		wg.Go(func() {
			start := time.Now()
			err := call()
			d := time.Since(start)
			if err != nil {
				b.Error(err)
			}
			mu.Lock()
			longest = max(longest, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	return longest
}

// signalRT reports every completed token request on done.
type signalRT struct{ done chan struct{} }

func (s signalRT) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	s.done <- struct{}{}
	return resp, err
}

// BenchmarkRenewalWindow measures the longest wait of renewalCallers callers
// while the token endpoint takes 200 ms to renew: ours holds a token inside
// its renewal window; x/oauth2's ReuseTokenSource holds one at its expiry
// (it renews only 10 s before expiry, so callers there find it expired). The
// metric to read is max-wait-ms; ns/op is dominated by the 200 ms endpoint.
func BenchmarkRenewalWindow(b *testing.B) {
	const latency = 200 * time.Millisecond
	as, _ := newAuthServer(b)
	ctx := context.Background()
	cfg := oauthclient.Config{Name: "crm", TokenURL: as.TokenURL(), ClientID: testClient, ClientSecret: oauthclient.NewSecret(testSecret)}

	b.Run("tokenwire", func(b *testing.B) {
		sig := signalRT{done: make(chan struct{}, 2)}
		opts := oauthclient.Options{
			HTTPClient:        &http.Client{Transport: sig},
			AllowInsecureHTTP: true,
			RenewWindow:       func(life time.Duration) time.Duration { return life }, // always renewing
		}
		var worst time.Duration
		for b.Loop() {
			as.SetLatency(0)
			src, err := oauthclient.NewSource(cfg, opts)
			require.NoError(b, err)
			_, err = src.TokenContext(ctx) // warm: a valid token, already in its window
			require.NoError(b, err)
			<-sig.done
			as.SetLatency(latency)
			worst = max(worst, maxWait(b, func() error { _, err := src.TokenContext(ctx); return err }))
			<-sig.done // the background renewal ends before the next round
		}
		b.ReportMetric(float64(worst)/float64(time.Millisecond), "max-wait-ms")
	})
	b.Run("xoauth2", func(b *testing.B) {
		as.SetLatency(latency)
		cc := &clientcredentials.Config{ClientID: testClient, ClientSecret: testSecret, TokenURL: as.TokenURL()}
		var worst time.Duration
		for b.Loop() {
			old := &oauth2.Token{AccessToken: "old", TokenType: "Bearer", Expiry: time.Now()}
			ts := oauth2.ReuseTokenSource(old, cc.TokenSource(ctx))
			worst = max(worst, maxWait(b, func() error { _, err := ts.Token(); return err }))
		}
		b.ReportMetric(float64(worst)/float64(time.Millisecond), "max-wait-ms")
	})
}

// fakeClock is an injectable clock safe for concurrent use.
type fakeClock = fakeclock.Clock

func newFakeClock(t time.Time) *fakeClock { return fakeclock.At(t) }

// TestRenewalNoCallerWaits proves, without timing, that no caller waits for
// a renewal while the current token is valid: the renewal fetch blocks until
// the test releases it, and meanwhile every caller gets the old token.
func TestRenewalNoCallerWaits(t *testing.T) {
	clk := newFakeClock(time.Now())
	renewing, release := make(chan struct{}), make(chan struct{})
	var fetches atomic.Int64
	f := oauthclient.FetcherFunc(func(context.Context) (*oauthclient.Token, error) {
		n := fetches.Add(1)
		if n > 1 {
			close(renewing)
			<-release
		}
		return mkToken(fmt.Sprintf("tok-%d", n), clk.Now().Add(time.Hour)), nil
	})
	src := oauthclient.NewSourceFrom("renew", f, oauthclient.Options{Now: clk.Now})
	ctx := context.Background()
	old, err := src.TokenContext(ctx)
	require.NoError(t, err)

	clk.Advance(56 * time.Minute) // inside the default 5 min window of a 1 h token
	callers := func() []*oauthclient.Token {
		got := make([]*oauthclient.Token, renewalCallers)
		done := make(chan struct{})
		go func() {
			defer close(done)
			var wg sync.WaitGroup
			for i := range got {
				wg.Go(func() {
					tok, err := src.TokenContext(ctx)
					assert.NoError(t, err)
					got[i] = tok
				})
			}
			wg.Wait()
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
			t.Fatal("callers are blocked behind the renewal")
		}
		return got
	}
	for _, tok := range callers() { // the first of these starts the renewal
		require.Same(t, old, tok)
	}
	<-renewing
	for _, tok := range callers() { // the renewal is blocked: all of these return at once
		require.Same(t, old, tok)
	}
	assert.EqualValues(t, 2, fetches.Load(), "one renewal for all callers")

	close(release)
	clk.Advance(5 * time.Minute) // old has expired: this caller gets the renewed token
	fresh, err := src.TokenContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", fresh.AccessToken())
	assert.EqualValues(t, 2, fetches.Load())
}

// getter is one GET of url through c, with the Authorization header auth
// when it is not empty; any status but 200 is an error.
func getter(c *http.Client, url, auth string) func() error {
	return func() error {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}
