package oauthclient_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// The interop server's mutual TLS (.ci/oidc/mtls.mjs): its CA, and the
// client certificates' files.
func (i interop) file(name string) string { return filepath.Join(i.dir, name) }

func (i interop) caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(i.file("ca.pem"))
	require.NoError(t, err)
	p := x509.NewCertPool()
	require.True(t, p.AppendCertsFromPEM(b))
	return p
}

// x5tS256 is RFC 8705's x5t#S256 of a DER certificate.
func x5tS256(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fileX5t is x5t#S256 of the PEM certificate in file.
func fileX5t(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	blk, _ := pem.Decode(b)
	require.NotNil(t, blk)
	return x5tS256(blk.Bytes)
}

// introspected asks the server about tok (RFC 7662), for a handler.
func (i interop) introspected(tok string) (map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, i.url+"/token/introspection", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("basic", url.QueryEscape(i.secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// boundResourceServer is a resource server on 127.0.0.1, serving the
// interop CA's server certificate, that asks every client for a
// certificate and accepts a token only if the authorization server says it
// is active and bound (cnf.x5t#S256) to the certificate presented.
func (i interop) boundResourceServer(t *testing.T) *httptest.Server {
	t.Helper()
	rs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no token or no certificate", http.StatusUnauthorized)
			return
		}
		in, err := i.introspected(tok)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		cnf, _ := in["cnf"].(map[string]any)
		if in["active"] != true || cnf["x5t#S256"] != x5tS256(r.TLS.PeerCertificates[0].Raw) {
			http.Error(w, fmt.Sprintf("not bound to the certificate presented: %v", cnf), http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	serverCert, err := tls.LoadX509KeyPair(i.file("server.crt"), i.file("server.key"))
	require.NoError(t, err)
	rs.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAnyClientCert}
	rs.Config.ErrorLog = log.New(io.Discard, "", 0)
	rs.StartTLS()
	t.Cleanup(rs.Close)
	return rs
}

// systemRootsTrust reports whether the system roots trust rs (.ci/setup
// adds the interop CA to SSL_CERT_DIR), which NewClient needs; under
// TOKENWIRE_REQUIRE_OIDC they must.
func (i interop) systemRootsTrust(t *testing.T, rs *httptest.Server) bool {
	t.Helper()
	roots, err := x509.SystemCertPool()
	require.NoError(t, err)
	_, err = rs.Certificate().Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"})
	if err != nil && os.Getenv("TOKENWIRE_REQUIRE_OIDC") != "" {
		t.Fatalf("the system roots do not trust the interop CA (.ci/setup adds %s to SSL_CERT_DIR): %v", i.file("trust"), err)
	}
	if err != nil {
		t.Logf("NewClient is not tried: the system roots do not trust the interop CA (set SSL_CERT_DIR as .ci/setup does): %v", err)
	}
	return err == nil
}

// RFC 8705 against the certified server: tls_client_auth (a certificate
// of its CA, matched by subject) and self_signed_tls_client_auth (matched
// by thumbprint) through its mTLS endpoint alias found by discovery; the
// tokens are bound to the certificate (cnf.x5t#S256), and reach a resource
// server that checks it, through the Transport and through a rest
// connection, which present the definition's certificate by default.
func TestInteropMutualTLS(t *testing.T) {
	i := newInterop(t)
	rs := i.boundResourceServer(t)
	systemTrusts := i.systemRootsTrust(t, rs)
	for _, tc := range []struct {
		client, pair string
		method       oauthclient.AuthMethod
	}{
		{"mtls-pki", "pki", oauthclient.AuthTLSClientAuth},
		{"mtls-self", "self", oauthclient.AuthSelfSignedTLS},
	} {
		t.Run(string(tc.method), func(t *testing.T) {
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "interop-mtls", Issuer: i.url, ClientID: tc.client, AuthMethod: tc.method,
				CertFile: i.file(tc.pair + ".crt"), KeyFile: i.file(tc.pair + ".key"), RootCAs: i.caPool(t), Scopes: []string{"api:read"}},
				oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			tok, err := src.TokenContext(context.Background())
			require.NoError(t, err)
			in := i.introspect(t, tok.AccessToken())
			assert.Equal(t, true, in["active"], "%v", in)
			cnf, _ := in["cnf"].(map[string]any)
			assert.Equal(t, fileX5t(t, i.file(tc.pair+".crt")), cnf["x5t#S256"], "bound to the certificate: %v", in)

			tr, err := oauthclient.NewTransport(src, rs.Client().Transport, rs.URL)
			require.NoError(t, err)
			resp, err := (&http.Client{Transport: tr}).Get(rs.URL + "/records")
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "through the Transport: %s", body)

			if systemTrusts {
				client, err := oauthclient.NewClient(src, rs.URL)
				require.NoError(t, err)
				resp, err := client.Get(rs.URL + "/records")
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, "through NewClient: %s", body)
				client.CloseIdleConnections()
			}

			conn, err := rest.NewConn("api", rest.ConnConfig{BaseURL: rs.URL, TLS: rest.TLSConfig{CAFile: i.file("ca.pem")}}, rest.OAuth(src))
			require.NoError(t, err)
			t.Cleanup(conn.CloseIdleConnections)
			resp, err = conn.Get(context.Background(), "/records")
			require.NoError(t, err)
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "through a rest connection: %s", body)

			// A connection presenting another certificate: the bound token
			// does not leave.
			other, err := rest.NewConn("api-other", rest.ConnConfig{BaseURL: rs.URL, TLS: rest.TLSConfig{CAFile: i.file("ca.pem"),
				CertFile: i.file("stranger.crt"), KeyFile: i.file("stranger.key"), OwnCertificate: true}}, rest.OAuth(src))
			require.NoError(t, err)
			t.Cleanup(other.CloseIdleConnections)
			_, err = other.Get(context.Background(), "/records")
			require.ErrorIs(t, err, oauthclient.ErrCertificateMismatch)
			var re *rest.Error
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "api-other", re.Conn)
			assert.Contains(t, err.Error(), `security definition "interop-mtls"`)
		})
	}
}

// A certificate the server knows for no client gets a typed invalid_client
// from the certified server, for both methods; no key material shows.
func TestInteropMutualTLSWrongCertificate(t *testing.T) {
	i := newInterop(t)
	key, err := os.ReadFile(i.file("stranger.key"))
	require.NoError(t, err)
	keyLine := strings.Split(string(key), "\n")[1]
	for _, tc := range []struct {
		client string
		method oauthclient.AuthMethod
	}{
		{"mtls-pki", oauthclient.AuthTLSClientAuth},
		{"mtls-self", oauthclient.AuthSelfSignedTLS},
	} {
		t.Run(string(tc.method), func(t *testing.T) {
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "interop-mtls", Issuer: i.url, ClientID: tc.client, AuthMethod: tc.method,
				CertFile: i.file("stranger.crt"), KeyFile: i.file("stranger.key"), RootCAs: i.caPool(t), Scopes: []string{"api:read"}},
				oauthclient.Options{AllowInsecureHTTP: true, MaxBackoffWait: -1})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			_, err = src.TokenContext(context.Background())
			require.ErrorIs(t, err, oauthclient.ErrInvalidClient)
			var oe *oauthclient.Error
			assert.True(t, errors.As(err, &oe))
			assert.NotContains(t, err.Error(), keyLine)
			assert.NotContains(t, fmt.Sprintf("%+v", src.Status()), keyLine)
		})
	}
}
