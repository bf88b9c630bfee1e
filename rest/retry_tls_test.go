package rest

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that refuses the TLS handshake (here: it requires a client
// certificate the connection does not present) refuses it again: the
// refusal is not retried, and the error says no response came.
func TestRefusedHandshakeIsNotRetried(t *testing.T) {
	var hellos atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { hellos.Add(1); return nil, nil }}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	c, clk := testConn(t, srv.URL, nil, ConnConfig{TLS: TLSConfig{CAFile: ca}})
	_, err := c.Get(context.Background(), "x")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrTransport)
	assert.Equal(t, int32(1), hellos.Load(), "the refused handshake was tried once")
	assert.Empty(t, clk.Sleeps())
}
