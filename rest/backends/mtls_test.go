package backends

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// The mutual TLS example of the package doc opens, with its files where
// the example puts them; without own_certificate the connection naming
// another certificate is refused, naming the connection and the field.
func TestMutualTLSDocExampleOpens(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	text := string(doc)
	text = text[strings.Index(text, "# Mutual TLS (RFC 8705)"):]
	text = text[strings.Index(text, "//\tsecurity:"):]
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "//\t") {
			break
		}
		b.WriteString(strings.TrimPrefix(line, "//\t") + "\n")
	}
	yaml := b.String()
	require.Contains(t, yaml, "own_certificate: true")

	dir := t.TempDir()
	certFile, keyFile := testcert.Write(t, testcert.SelfSigned(t, "partner"), dir, "partner")
	legacyCert, legacyKey := testcert.Write(t, testcert.SelfSigned(t, "legacy"), dir, "legacy")
	yaml = strings.NewReplacer("/var/run/secrets/partner/tls.crt", certFile, "/var/run/secrets/partner/tls.key", keyFile,
		"/etc/ssl/partner-ca.pem", certFile, "/run/secrets/legacy.crt", legacyCert, "/run/secrets/legacy.key", legacyKey).Replace(yaml)

	cfg, err := Parse([]byte(yaml))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	for _, name := range []string{"partner", "partner-legacy"} {
		_, err := reg.REST(name)
		assert.NoError(t, err, name)
	}

	cfg, err = Parse([]byte(strings.Replace(yaml, "own_certificate: true", "min_version: \"1.2\"", 1)))
	require.NoError(t, err)
	_, err = Open(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `connection "partner-legacy": tls.cert_file`)
	assert.Contains(t, err.Error(), "tls.own_certificate")
}

// The status page shows why a definition's certificate files on disk
// were not taken (the previous certificate stays in use), next to its
// last error.
func TestStatusPageShowsCertificateProblem(t *testing.T) {
	problem := `cert_file "/run/secrets/tls.crt": the certificate and the key do not match (the previous certificate stays in use)`
	p := pageData{Now: time.Unix(1_700_000_000, 0), Security: []secRow{{SecurityStatus: SecurityStatus{Name: "partner", Kind: typeOAuth2,
		Token: &oauthclient.SourceStatus{State: oauthclient.TokenFresh, CertificateProblem: problem}}}}}
	var b strings.Builder
	require.NoError(t, pageTemplate.Execute(&b, p))
	assert.Contains(t, b.String(), `<span class="err">certificate files: cert_file &#34;/run/secrets/tls.crt&#34;: the certificate and the key do not match`)
}

// A reload after cert-manager rotated a definition's certificate files
// keeps the definition as it runs: its source follows the files itself,
// so nothing is rebuilt (no token source, connection or pool thrown away).
func TestReloadAfterCertificateRotationKeepsTheDefinition(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := testcert.Write(t, testcert.SelfSigned(t, "partner"), dir, "partner")
	yaml := fmt.Sprintf(`
security:
  partner-mtls: {type: oauth2, token_url: "https://as.example.com/token", client_id: c, auth_method: tls_client_auth, cert_file: %q, key_file: %q}
rest:
  partner: {base_url: "https://partner.example.com/api", security: partner-mtls}
`, certFile, keyFile)
	cfg, err := Parse([]byte(yaml))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })

	rotated := t.TempDir()
	newCert, newKey := testcert.Write(t, testcert.SelfSigned(t, "partner"), rotated, "partner")
	require.NoError(t, os.Rename(newCert, certFile))
	require.NoError(t, os.Rename(newKey, keyFile))
	cfg, err = Parse([]byte(yaml))
	require.NoError(t, err)
	rep, err := reg.Reload(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, []string{"partner-mtls"}, rep.Security.Unchanged, "%+v", rep)
	assert.Equal(t, []string{"partner"}, rep.Connections.Unchanged, "%+v", rep)
}
