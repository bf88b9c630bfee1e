package rest

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/tokenwire/tokenwire/internal/tlsconf"
)

// TLSConfig holds a connection's TLS settings. Files are PEM.
type TLSConfig struct {
	CAFile     string `yaml:"ca_file" json:"ca_file,omitempty"`         // trusted CAs instead of the system pool
	CertFile   string `yaml:"cert_file" json:"cert_file,omitempty"`     // client certificate (mutual TLS)
	KeyFile    string `yaml:"key_file" json:"key_file,omitempty"`       // its private key
	MinVersion string `yaml:"min_version" json:"min_version,omitempty"` // "1.2" (default) or "1.3"
	// OwnCertificate says that cert_file is presented although the
	// connection's security definition has a client certificate of its
	// own. Without it, such a connection presents the definition's
	// certificate (see oauthclient.Transport) and a cert_file beside a
	// definition that authenticates with its certificate is refused.
	// Tokens bound to the definition's certificate (tls_client_auth,
	// self_signed_tls_client_auth) never go out over a connection
	// presenting another: such calls fail with oauthclient.ErrCertificateMismatch.
	OwnCertificate bool `yaml:"own_certificate" json:"own_certificate,omitempty"`
}

// PoolConfig sizes a connection's pool of keep-alive connections.
type PoolConfig struct {
	MaxIdleConnsPerHost int           `yaml:"max_idle_conns_per_host" json:"max_idle_conns_per_host,omitempty"` // default 16
	MaxConnsPerHost     int           `yaml:"max_conns_per_host" json:"max_conns_per_host,omitempty"`           // default 0: unlimited
	IdleConnTimeout     time.Duration `yaml:"idle_conn_timeout" json:"idle_conn_timeout,omitempty"`             // default 90s
}

// defaultMaxIdleConnsPerHost is the idle pool size of a connection.
const defaultMaxIdleConnsPerHost = 16

// newTransport builds a connection's own *http.Transport.
func newTransport(tc TLSConfig, pc PoolConfig, readFile func(string) ([]byte, error)) (*http.Transport, error) {
	cfg, err := tc.build(readFile)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	t.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
	if pc.MaxIdleConnsPerHost > 0 {
		t.MaxIdleConnsPerHost = pc.MaxIdleConnsPerHost
	}
	if t.MaxIdleConns < t.MaxIdleConnsPerHost {
		t.MaxIdleConns = t.MaxIdleConnsPerHost
	}
	t.MaxConnsPerHost = max(pc.MaxConnsPerHost, 0)
	if pc.IdleConnTimeout > 0 {
		t.IdleConnTimeout = pc.IdleConnTimeout
	}
	return t, nil
}

// build returns the *tls.Config described by c, reading files with
// readFile. Errors name the field.
func (c TLSConfig) build(readFile func(string) ([]byte, error)) (*tls.Config, error) {
	return tlsconf.Build(tlsconf.Files{CAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile, MinVersion: c.MinVersion}, readFile)
}
