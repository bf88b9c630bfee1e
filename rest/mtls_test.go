package rest

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// A connection whose security definition authenticates with a client
// certificate presents it to the backend by default, with no tls section
// naming it again; one naming another certificate in tls.cert_file is
// refused unless it says tls.own_certificate, and then a call fails with
// oauthclient.ErrCertificateMismatch naming the connection and the definition,
// before it leaves and without a retry.
func TestMTLSConnectionPresentsTheDefinitionsCertificate(t *testing.T) {
	dir := t.TempDir()
	cert := testcert.SelfSigned(t, "svc")
	certFile, keyFile := testcert.Write(t, cert, dir, "svc")
	otherFile, otherKey := testcert.Write(t, testcert.SelfSigned(t, "other"), dir, "other")
	as := oauthtest.NewTLSServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Certificate: cert.Leaf})
	var hits atomic.Int64
	backend := httptest.NewUnstartedServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if len(r.TLS.PeerCertificates) == 0 || !r.TLS.PeerCertificates[0].Equal(cert.Leaf) {
			w.WriteHeader(http.StatusUnauthorized) // the token's certificate is not the one presented
			return
		}
		_, _ = io.WriteString(w, `{}`)
	})))
	backend.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	backend.Config.ErrorLog = log.New(io.Discard, "", 0)
	backend.StartTLS()
	t.Cleanup(backend.Close)
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: backend.Certificate().Raw}), 0o600))

	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm-mtls", TokenURL: as.TokenURL(), ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
		CertFile: certFile, KeyFile: keyFile, RootCAs: as.CertPool()}, oauthclient.Options{})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	conn, err := NewConn("crm", ConnConfig{BaseURL: backend.URL, TLS: TLSConfig{CAFile: caFile}}, OAuth(src))
	require.NoError(t, err)
	resp, err := conn.Get(context.Background(), "/records")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the definition's certificate was presented")
	conn.CloseIdleConnections()

	other := ConnConfig{BaseURL: backend.URL, TLS: TLSConfig{CAFile: caFile, CertFile: otherFile, KeyFile: otherKey}}
	_, err = NewConn("crm-other", other, OAuth(src))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `connection "crm-other": tls.cert_file`)
	assert.Contains(t, err.Error(), `"crm-mtls"`)
	assert.Contains(t, err.Error(), "tls.own_certificate")

	other.TLS.OwnCertificate = true
	other.Retry = RetryPolicy{MaxAttempts: 3}
	conn, err = NewConn("crm-other", other, OAuth(src))
	require.NoError(t, err)
	before := hits.Load()
	_, err = conn.Get(context.Background(), "/records")
	require.ErrorIs(t, err, oauthclient.ErrCertificateMismatch)
	var re *Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "crm-other", re.Conn)
	assert.Contains(t, err.Error(), "rest: crm-other:")
	assert.Contains(t, err.Error(), `security definition "crm-mtls"`)
	assert.Equal(t, before, hits.Load(), "nothing reached the backend")
	assert.Equal(t, int64(1), conn.Stats().Calls)
	assert.Zero(t, conn.Stats().Retries, "not retried: it would be kept again")
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}
