package oauthclient_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// x5t is the hex SHA-256 of a DER certificate (RFC 8705's x5t#S256).
func x5t(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// replaceFile writes b to path by an atomic rename, as cert-manager does.
func replaceFile(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, b, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// k8sVolume is a directory as Kubernetes projects a secret: tls.crt and
// tls.key are symlinks to ..data/…, and ..data a symlink to the current
// timestamped directory, swapped by a rename.
type k8sVolume struct {
	dir string
	n   int
}

func (v *k8sVolume) publish(t *testing.T, certPEM, keyPEM []byte) {
	t.Helper()
	v.n++
	ts := fmt.Sprintf("..2026_12_07_%02d", v.n)
	require.NoError(t, os.Mkdir(filepath.Join(v.dir, ts), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(v.dir, ts, "tls.crt"), certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(v.dir, ts, "tls.key"), keyPEM, 0o600))
	require.NoError(t, os.Symlink(ts, filepath.Join(v.dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(v.dir, "..data_tmp"), filepath.Join(v.dir, "..data")))
	if v.n == 1 {
		require.NoError(t, os.Symlink("..data/tls.crt", filepath.Join(v.dir, "tls.crt")))
		require.NoError(t, os.Symlink("..data/tls.key", filepath.Join(v.dir, "tls.key")))
	}
}

// boundServers are an authorization server that binds each token to the
// client certificate its request presented, and a resource server that
// accepts a token only over a connection presenting that certificate and
// closes every connection, so that each call makes a handshake.
type boundServers struct {
	as, rs  *httptest.Server
	mu      sync.Mutex
	bound   map[string]string // token → x5t
	seen    map[string]chan struct{}
	issued  map[string]int // x5t → tokens issued
	n       atomic.Int64
	refused atomic.Int64 // calls the resource server refused
}

func newBoundServers(t testing.TB) *boundServers {
	t.Helper()
	b := &boundServers{bound: map[string]string{}, seen: map[string]chan struct{}{}, issued: map[string]int{}}
	b.as = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		id := x5t(r.TLS.PeerCertificates[0].Raw)
		tok := fmt.Sprintf("at-%d", b.n.Add(1))
		b.mu.Lock()
		b.bound[tok] = id
		b.issued[id]++
		b.mu.Unlock()
		_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, tok)
	}))
	b.rs = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := x5t(r.TLS.PeerCertificates[0].Raw)
		b.mu.Lock()
		want, ok := b.bound[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		ch := b.seen[id]
		if ch == nil {
			ch = make(chan struct{})
			b.seen[id] = ch
		}
		b.mu.Unlock()
		if !ok || want != id {
			b.refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		select {
		case <-ch:
		default:
			b.mu.Lock()
			select {
			case <-ch:
			default:
				close(ch)
			}
			b.mu.Unlock()
		}
	}))
	for _, s := range []*httptest.Server{b.as, b.rs} {
		s.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
		s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short when a test ends
		s.StartTLS()
		t.Cleanup(s.Close)
	}
	return b
}

// served is closed once the resource server accepted a call presenting
// the certificate of thumbprint id.
func (b *boundServers) served(id string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[id] == nil {
		b.seen[id] = make(chan struct{})
	}
	return b.seen[id]
}

func (b *boundServers) tokensFor(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.issued[id]
}

func (b *boundServers) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(b.as.Certificate())
	return p
}

// waitFor fails the test if ch is not closed within a generous bound (a
// safety net, not a measured duration).
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

// Certificate files rotated on disk while many goroutines call a resource
// server that checks each token's binding: every call succeeds, each new
// certificate is presented from a handshake after the next look at the
// files, and each gets tokens of its own — by an atomic rename and by a
// Kubernetes ..data swap. A pair caught half way (the new key beside the
// old certificate) keeps the old certificate and says why.
func TestMTLSCertificateFilesRotateUnderLoad(t *testing.T) {
	for _, layout := range []string{"rename", "k8s"} {
		t.Run(layout, func(t *testing.T) {
			b := newBoundServers(t)
			dir := t.TempDir()
			vol := &k8sVolume{dir: dir}
			certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
			publish := func(c tls.Certificate) {
				cp, kp := testcert.PEM(t, c)
				if layout == "k8s" {
					vol.publish(t, cp, kp)
					return
				}
				replaceFile(t, keyFile, kp) // the new key first: the pair is mismatched until the certificate follows
				replaceFile(t, certFile, cp)
			}
			first := testcert.SelfSigned(t, "gen-0")
			publish(first)
			clk := newFakeClock(time.Now())
			logs := &logbuf.Buffer{}
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: b.as.URL, ClientID: "svc",
				AuthMethod: oauthclient.AuthSelfSignedTLS, CertFile: certFile, KeyFile: keyFile, RootCAs: b.roots()},
				oauthclient.Options{Now: clk.Now, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			tr, err := oauthclient.NewTransport(src, b.rs.Client().Transport, b.rs.URL)
			require.NoError(t, err)
			client := &http.Client{Transport: tr}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var calls, failed atomic.Int64
			var firstFailure atomic.Pointer[string]
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.rs.URL+"/records", nil)
						resp, err := client.Do(req)
						if ctx.Err() != nil {
							return // cancelled at the end: not a failure
						}
						calls.Add(1)
						if err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
						if err != nil || resp.StatusCode != http.StatusOK {
							failed.Add(1)
							msg := fmt.Sprint(err)
							if err == nil {
								msg = resp.Status
							}
							firstFailure.CompareAndSwap(nil, &msg)
						}
					}
				}()
			}
			waitFor(t, b.served(x5t(first.Certificate[0])), "a call with the first certificate")
			for gen := 1; gen <= 4; gen++ {
				next := testcert.SelfSigned(t, fmt.Sprintf("gen-%d", gen))
				if layout == "rename" && gen == 2 { // caught half way: the new key beside the old certificate
					_, kp := testcert.PEM(t, next)
					replaceFile(t, keyFile, kp)
					clk.Advance(2 * time.Second)
					logs.WaitFor(t, "client certificate files not loaded")
				}
				publish(next)
				clk.Advance(2 * time.Second) // the next look at the files is due
				waitFor(t, b.served(x5t(next.Certificate[0])), fmt.Sprintf("a call with certificate %d", gen))
				assert.Positive(t, b.tokensFor(x5t(next.Certificate[0])), "a token bound to certificate %d", gen)
			}
			cancel()
			wg.Wait()
			assert.Zero(t, failed.Load(), "of %d calls; first: %v", calls.Load(), firstFailure.Load())
			assert.Positive(t, calls.Load())
			assert.Zero(t, b.refused.Load(), "no token went out over a connection presenting another certificate (no 401, no resend)")
			assert.Zero(t, src.Status().Resends)
			if layout == "rename" {
				assert.Contains(t, logs.String(), "private key does not match public key", "why the half-rotated pair was not used")
			}
			assert.NotContains(t, logs.String(), "PRIVATE KEY")
		})
	}
}

// Certificate files that do not load are refused at NewSource with the
// field and the file named, never what they hold; later, a half-written
// certificate leaves the one in use as it is.
func TestMTLSCertificateFileErrors(t *testing.T) {
	dir := t.TempDir()
	cert := testcert.SelfSigned(t, "svc")
	cp, kp := testcert.PEM(t, cert)
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(certFile, cp, 0o600))
	require.NoError(t, os.WriteFile(keyFile, kp, 0o600))
	other, _ := testcert.PEM(t, testcert.SelfSigned(t, "other"))
	otherFile := filepath.Join(dir, "other.pem")
	require.NoError(t, os.WriteFile(otherFile, other, 0o600))
	half := filepath.Join(dir, "half.pem")
	require.NoError(t, os.WriteFile(half, cp[:len(cp)/2], 0o600))
	for _, tc := range []struct {
		name string
		cfg  oauthclient.Config
		want string
	}{
		{"cert without key", oauthclient.Config{CertFile: certFile}, "cert_file and key_file go together"},
		{"key without cert", oauthclient.Config{KeyFile: keyFile}, "cert_file and key_file go together"},
		{"both kinds", oauthclient.Config{CertFile: certFile, KeyFile: keyFile, Certificate: &cert}, "not both"},
		{"missing", oauthclient.Config{CertFile: filepath.Join(dir, "nope"), KeyFile: keyFile}, "nope: no such file"},
		{"half written", oauthclient.Config{CertFile: half, KeyFile: keyFile}, "half.pem"},
		{"key of another certificate", oauthclient.Config{CertFile: otherFile, KeyFile: keyFile}, "private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Name, cfg.TokenURL, cfg.ClientID, cfg.AuthMethod = "crm", "https://as.example/token", "svc", oauthclient.AuthTLSClientAuth
			_, err := oauthclient.NewSource(cfg, oauthclient.Options{})
			var ce *oauthclient.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "crm", ce.Definition)
			assert.Equal(t, "cert_file", ce.Field)
			assert.Contains(t, ce.Reason, tc.want)
			assert.NotContains(t, err.Error(), strings.Split(string(kp), "\n")[1], "no key material")
			assert.NotContains(t, err.Error(), "BEGIN")
		})
	}

	// Rotated to a half-written certificate: the handshake still presents
	// the one loaded, and the log says why.
	b := newBoundServers(t)
	clk := newFakeClock(time.Now())
	logs := &logbuf.Buffer{}
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: b.as.URL, ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
		CertFile: certFile, KeyFile: keyFile, RootCAs: b.roots()}, oauthclient.Options{Now: clk.Now, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tr, err := oauthclient.NewTransport(src, b.rs.Client().Transport, b.rs.URL)
	require.NoError(t, err)
	client := &http.Client{Transport: tr}
	call := func() {
		t.Helper()
		resp, err := client.Get(b.rs.URL)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	call()
	replaceFile(t, certFile, cp[:len(cp)/2])
	clk.Advance(2 * time.Second)
	call() // a new connection (the server closes each): a handshake, a look at the files
	assert.Contains(t, logs.String(), "client certificate files not loaded")
	assert.Contains(t, logs.String(), "c.pem")
	assert.Contains(t, src.Status().CertificateProblem, "c.pem", "the status says it too")
	assert.Equal(t, 1, b.tokensFor(x5t(cert.Certificate[0])), "the token bound to the certificate in use is kept")
	assert.NotContains(t, logs.String(), "BEGIN")
}

// A definition authenticating with its certificate has its tokens bound to
// it: over a base transport presenting a fixed certificate of its own, a
// token goes out only if that is the same certificate; otherwise a
// ErrCertificateMismatch before anything leaves. Over a base presenting none,
// the transport presents the definition's.
func TestMTLSBoundTokenNeverLeavesWithAnotherCertificate(t *testing.T) {
	b := newBoundServers(t)
	cert, stranger := testcert.SelfSigned(t, "svc"), testcert.SelfSigned(t, "stranger")
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: b.as.URL, ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
		Certificate: &cert, RootCAs: b.roots()}, oauthclient.Options{})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	presenting := func(c *tls.Certificate) http.RoundTripper {
		bt := b.rs.Client().Transport.(*http.Transport).Clone()
		if c != nil {
			bt.TLSClientConfig.Certificates = []tls.Certificate{*c}
		}
		return bt
	}
	for _, tc := range []struct {
		name    string
		base    http.RoundTripper
		refused bool
	}{
		{"none: the definition's is presented", presenting(nil), false},
		{"the definition's own", presenting(&cert), false},
		{"another", presenting(&stranger), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.n.Load() + b.refused.Load()
			tr, err := oauthclient.NewTransport(src, tc.base, b.rs.URL)
			require.NoError(t, err)
			resp, err := (&http.Client{Transport: tr}).Get(b.rs.URL)
			if !tc.refused {
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				return
			}
			require.ErrorIs(t, err, oauthclient.ErrCertificateMismatch)
			assert.Contains(t, err.Error(), `security definition "crm"`)
			assert.Contains(t, err.Error(), x5t(stranger.Certificate[0]), "the certificate presented")
			assert.Equal(t, before, b.n.Load()+b.refused.Load(), "nothing reached the resource server")
		})
	}
}

// http.Client.CloseIdleConnections reaches the connections the transport
// made for the definition's certificate (a clone of the base per
// certificate), so that a rest connection or a service can release them.
func TestMTLSCloseIdleConnectionsReachesEachCertificatesConnections(t *testing.T) {
	b := newBoundServers(t)
	cert := testcert.SelfSigned(t, "svc")
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: b.as.URL, ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
		Certificate: &cert, RootCAs: b.roots()}, oauthclient.Options{})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	closed := make(chan struct{})
	var once sync.Once
	rs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || !r.TLS.PeerCertificates[0].Equal(cert.Leaf) {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	rs.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	rs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			once.Do(func() { close(closed) })
		}
	}
	rs.StartTLS()
	t.Cleanup(rs.Close)
	tr, err := oauthclient.NewTransport(src, rs.Client().Transport, rs.URL)
	require.NoError(t, err)
	client := &http.Client{Transport: tr}
	resp, err := client.Get(rs.URL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the definition's certificate was presented")
	select {
	case <-closed:
		t.Fatal("the server closed a keep-alive connection by itself")
	default:
	}
	client.CloseIdleConnections()
	waitFor(t, closed, "the idle connection being closed")
}

// A login definition (a vendor's login endpoint) that presents a client
// certificate presents it to the resource server too, through the
// Transport built for it, as an OAuth definition does.
func TestMTLSLoginPresentsItsCertificateToTheResourceServer(t *testing.T) {
	b := newBoundServers(t)
	cert := testcert.SelfSigned(t, "svc")
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "vendor", TokenURL: b.as.URL, ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw"),
		Grant: oauthclient.Login{TokenPath: "access_token"}, Certificate: &cert, RootCAs: b.roots()}, oauthclient.Options{})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tr, err := oauthclient.NewTransport(src, b.rs.Client().Transport.(*http.Transport).Clone(), b.rs.URL)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Get(b.rs.URL)
	require.NoError(t, err, "the resource server requires a client certificate")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the token is bound to the certificate presented")
}

// Close releases the connections the source keeps to the token endpoint
// per client certificate: the endpoint sees its idle connection closed.
func TestMTLSCloseReleasesTheTokenEndpointsConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	as := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":3600}`)
	}))
	as.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	as.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	as.StartTLS()
	t.Cleanup(as.Close)
	roots := x509.NewCertPool()
	roots.AddCert(as.Certificate())
	cert := testcert.SelfSigned(t, "svc")
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: as.URL, ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
		Certificate: &cert, RootCAs: roots}, oauthclient.Options{})
	require.NoError(t, err)
	_, err = src.TokenContext(context.Background())
	require.NoError(t, err)
	select {
	case <-closed:
		t.Fatal("the connection closed before Close")
	default:
	}
	src.Close()
	waitFor(t, closed, "the token endpoint's idle connection closed by Close")
}
