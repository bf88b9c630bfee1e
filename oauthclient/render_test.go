package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// Every exported type that holds a secret, rendered every way (fmt verbs,
// slog text and JSON, nested; encoding/json; YAML), shows none of it.
func TestRenderingsShowNoSecret(t *testing.T) {
	const secret = "client-SECRET-4711"
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	keyBody := strings.Split(keyPEM, "\n")[1] // a line of the key's base64
	keyD := key.D.String()

	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: secret})
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret(secret)},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	access := tok.AccessToken()
	api := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(api.Close)
	tr, err := oauthclient.NewTransport(src, nil, api.URL)
	require.NoError(t, err)
	reg := oauthclient.NewRegistry(oauthclient.Options{AllowInsecureHTTP: true})
	t.Cleanup(func() { _ = reg.Close() })
	require.NoError(t, reg.Add(src))

	cfg := oauthclient.Config{Name: "erp", TokenURL: "https://idp.example.com/t", ClientID: "erp", ClientSecret: oauthclient.NewSecret(secret),
		PrivateKeyPEM: oauthclient.NewSecret(keyPEM), PrivateKey: key, AuthMethod: oauthclient.AuthPrivateKeyJWT,
		Certificate: &tls.Certificate{PrivateKey: key}, DPoPKey: key, DPoPKeyPEM: oauthclient.NewSecret(keyPEM)}
	// A definition whose certificate comes from files, its source,
	// transport, bound token and the error of a connection presenting
	// another certificate.
	mtls := newBoundServers(t)
	cert := testcert.SelfSigned(t, "svc")
	certPEM, certKeyPEM := testcert.PEM(t, cert)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/c.pem", certPEM, 0o600))
	require.NoError(t, os.WriteFile(dir+"/k.pem", certKeyPEM, 0o600))
	fileCfg := oauthclient.Config{Name: "files", TokenURL: mtls.as.URL, ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
		CertFile: dir + "/c.pem", KeyFile: dir + "/k.pem", RootCAs: mtls.roots()}
	fileSrc, err := oauthclient.NewSource(fileCfg, oauthclient.Options{})
	require.NoError(t, err)
	t.Cleanup(fileSrc.Close)
	boundTok, err := fileSrc.TokenContext(context.Background())
	require.NoError(t, err)
	fileTr, err := oauthclient.NewTransport(fileSrc, mtls.rs.Client().Transport, mtls.rs.URL)
	require.NoError(t, err)
	_, certErr := (&http.Client{Transport: fileTr}).Get(mtls.rs.URL) // the definition's certificate is presented
	require.NoError(t, certErr)
	other := mtls.rs.Client().Transport.(*http.Transport).Clone()
	other.TLSClientConfig.Certificates = []tls.Certificate{testcert.SelfSigned(t, "other")}
	otherTr, err := oauthclient.NewTransport(fileSrc, other, mtls.rs.URL)
	require.NoError(t, err)
	_, certErr = (&http.Client{Transport: otherTr}).Get(mtls.rs.URL)
	require.ErrorIs(t, certErr, oauthclient.ErrCertificateMismatch)
	certKey := cert.PrivateKey.(*ecdsa.PrivateKey)

	secrets := []string{secret, access, keyBody, keyD, "BEGIN PRIVATE KEY", boundTok.AccessToken(),
		strings.Split(string(certKeyPEM), "\n")[1], certKey.D.String()}
	for name, v := range map[string]any{
		"Config with cert files": fileCfg, "*Source with cert files": fileSrc, "*Transport with cert files": fileTr,
		"*Token bound to a certificate": boundTok, "certificate mismatch error": certErr,
		"Config": cfg, "*Config": &cfg,
		"Token": *tok, "*Token": tok,
		"*Source": src, "*Transport": tr, "*Registry": reg,
		"Secret":        oauthclient.NewSecret(secret),
		"Token expired": *oauthclient.NewToken(access, "DPoP", time.Now(), time.Now().Add(-time.Hour)),
	} {
		rendertest.NoSecret(t, name, v, secrets...)
	}
}
