package oauthclient

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// AuthMethod is how the client authenticates to the token endpoint, named
// as in the OAuth token_endpoint_auth_method registry.
type AuthMethod string

// The client authentication methods tokenwire supports.
const (
	AuthClientSecretBasic AuthMethod = "client_secret_basic"         // RFC 6749 §2.3.1, the default
	AuthClientSecretPost  AuthMethod = "client_secret_post"          // RFC 6749 §2.3.1, secret in the form
	AuthPrivateKeyJWT     AuthMethod = "private_key_jwt"             // RFC 7523 assertion signed with a private key
	AuthClientSecretJWT   AuthMethod = "client_secret_jwt"           // RFC 7523 assertion signed with the secret (HS256, HS384, HS512)
	AuthTLSClientAuth     AuthMethod = "tls_client_auth"             // RFC 8705 client certificate (PKI)
	AuthSelfSignedTLS     AuthMethod = "self_signed_tls_client_auth" // RFC 8705 self-signed client certificate
	AuthNone              AuthMethod = "none"                        // public client
)

// Defaults applied by [NewSource] to zero fields of [Config].
const (
	defaultTimeout           = 10 * time.Second
	defaultLifetime          = time.Hour
	defaultAssertionLifetime = time.Minute
	maxAssertionLifetime     = 5 * time.Minute
)

// Secret holds a client secret, a private key or any other credential: it
// prints as "[redacted]" under every fmt verb (%p included), log/slog,
// encoding/json and YAML. Make one with [NewSecret]. It is the one
// redacting type of tokenwire: rest and cache/redis use it too.
type Secret = redact.Secret

// NewSecret holds s as a [Secret]: NewSecret(os.Getenv("CRM_SECRET")).
func NewSecret(s string) Secret { return redact.NewSecret(s) }

// Config is one security definition: the client-credentials grant (RFC 6749
// §4.4) against one token endpoint, or the [Grant] it names. Its zero
// fields take the documented defaults. Config never prints its secrets:
// they are [Secret]s, and the keys, the certificate and the functions are
// left out of encoding/json and YAML (fmt shows a key only as a pointer).
type Config struct {
	Name string // definition name, used in errors and logs
	// Grant is how tokens are obtained: nil for client credentials, or
	// [JWTBearer], [TokenExchange], [RefreshToken], [Login], [Imported].
	Grant    Grant
	TokenURL string // token endpoint; must be https unless Options.AllowInsecureHTTP
	// DiscoveryURL, used when TokenURL is empty, is a discovery document
	// that names the token endpoint: a SMART configuration
	// (<fhir base>/.well-known/smart-configuration, see
	// [SMARTBackendServices]), RFC 8414 authorization server metadata or an
	// OpenID configuration. It is read before the first fetch and kept for
	// an hour; a document that lists the token endpoint's
	// authentication methods or signing algorithms must list the ones this
	// definition uses.
	DiscoveryURL string
	// DiscoveryClient reads the discovery document, for a server that needs
	// TLS settings of its own. Default: the client of token requests.
	DiscoveryClient *http.Client `json:"-" yaml:"-"`
	// TokenURLFunc, used when TokenURL and DiscoveryURL are empty, finds the
	// token endpoint before each fetch. Its result is checked as TokenURL is.
	TokenURLFunc func(ctx context.Context) (string, error) `json:"-" yaml:"-"`
	// Issuer is the authorization server's issuer identifier. With no
	// TokenURL, DiscoveryURL or TokenURLFunc, the token endpoint is read from
	// its metadata: <issuer host>/.well-known/oauth-authorization-server<path>
	// (RFC 8414), else <issuer>/.well-known/openid-configuration (OpenID
	// Connect Discovery), whose "issuer" must be this one; kept like
	// DiscoveryURL's. With TokenURLFunc it names the server in the cache key,
	// so that tokens of different servers are never shared (default Name).
	Issuer       string
	ClientID     string   // client_id
	ClientSecret Secret   // for client_secret_basic, client_secret_post and client_secret_jwt
	Scopes       []string // sent space-separated as "scope"
	Audience     string   // "audience" parameter (Auth0, Okta custom servers…)
	Resources    []string // RFC 8707 "resource" indicators, one parameter each
	// Params are extra form parameters of token requests (a tenant, an
	// API key some servers want), and of the authorization URL
	// ([AuthCodeURL]: prompt, access_type…), sent as they are. Their values
	// are held as secrets: they never print, and are blanked from whatever
	// a server echoes.
	Params     map[string]Secret
	AuthMethod AuthMethod // default AuthClientSecretBasic

	// private_key_jwt (RFC 7523). PrivateKey wins over PrivateKeyPEM.
	PrivateKeyPEM     Secret        // PKCS#1, PKCS#8 or SEC 1 (EC) PEM
	PrivateKey        crypto.Signer `json:"-" yaml:"-"` // *rsa.PrivateKey or *ecdsa.PrivateKey
	KeyID             string        // "kid" header
	SigningAlg        string        // RS256, RS384, PS256, ES256, ES384 (default RS384 for RSA, by curve for EC); HS256 (default), HS384, HS512 for client_secret_jwt
	AssertionAudience string        // "aud" claim; default TokenURL
	AssertionLifetime time.Duration // "exp" − "iat"; default 1m, at most 5m

	// DPoP (RFC 9449): sender-constrained tokens. With DPoP set (or a key
	// given), token requests carry a proof of possession of the key, and a
	// DPoP-bound token goes out as "Authorization: DPoP …" with a fresh
	// proof on every request. Without a key, an EC key (P-256, or P-384 for
	// ES384) is generated in memory. DPoPKey wins over DPoPKeyPEM. A key or
	// an algorithm implies DPoP.
	DPoP       bool
	DPoPKey    crypto.Signer `json:"-" yaml:"-"` // *ecdsa.PrivateKey or *rsa.PrivateKey
	DPoPKeyPEM Secret        // PKCS#1, PKCS#8 or SEC 1 PEM
	DPoPAlg    string        // ES256 (default for EC P-256), ES384, RS256, PS256 (default for RSA)

	// Mutual TLS (RFC 8705): the client certificate presented to the token
	// endpoint (tls_client_auth, self_signed_tls_client_auth) and, by the
	// [Transport] and client built for the definition, to the resource
	// server, whatever CAs a server names. Certificate is fixed;
	// CertFile and KeyFile (PEM) are read at [NewSource] and again when
	// they change on disk (an atomic rename, a Kubernetes ..data symlink
	// swap), looked at no more than once a second, at a TLS handshake or
	// before a token fetch: the next handshake presents the new pair, and
	// the tokens bound to the old one are dropped and fetched anew. A pair
	// that does not load (half written, a key of another certificate)
	// leaves the certificate in use as it is; the log says why. Give
	// Certificate or the files, not both. RootCAs, when set, verifies the
	// token endpoint.
	Certificate *tls.Certificate `json:"-" yaml:"-"`
	CertFile    string
	KeyFile     string
	RootCAs     *x509.CertPool

	Timeout         time.Duration // one token call; default 10s
	DefaultLifetime time.Duration // when the response has no expires_in; default 1h

}

// ConfigError reports an invalid field of a security definition. It never
// contains the value of a secret field.
type ConfigError struct {
	Definition string // the definition's name
	Field      string // e.g. "token_url", "private_key"
	Reason     string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("security definition %q: %s: %s", e.Definition, e.Field, e.Reason)
}

// authMethod is the client authentication: AuthMethod, else
// client_secret_basic; for the grants where it is optional (all but client
// credentials), none when there is no client secret.
func (c Config) authMethod() AuthMethod {
	switch {
	case c.AuthMethod != "":
		return c.AuthMethod
	case c.Grant != nil && grantName(c.Grant) != grantClientCredentials && c.ClientSecret.IsZero():
		return AuthNone
	}
	return AuthClientSecretBasic
}

// withDefaults returns c with its zero durations set.
func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	if c.DefaultLifetime <= 0 {
		c.DefaultLifetime = defaultLifetime
	}
	if c.AssertionLifetime <= 0 {
		c.AssertionLifetime = defaultAssertionLifetime
	}
	return c
}

// validate checks the fields that do not depend on the auth method.
func (c Config) validate(insecure bool) error {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: c.Name, Field: field, Reason: reason}
	}
	if c.AssertionLifetime > maxAssertionLifetime {
		return bad("assertion_lifetime", "at most 5m")
	}
	if c.TokenURL == "" && c.DiscoveryURL != "" {
		return c.checkURL("discovery_url", c.DiscoveryURL, insecure)
	}
	if c.TokenURL == "" && c.TokenURLFunc != nil {
		return nil
	}
	if c.TokenURL == "" && c.Issuer != "" {
		return c.checkURL("issuer", c.Issuer, insecure)
	}
	return c.checkURL("token_url", c.TokenURL, insecure)
}

// checkURL validates a configured or discovered endpoint.
func (c Config) checkURL(field, raw string, insecure bool) error {
	bad := func(reason string) error {
		return &ConfigError{Definition: c.Name, Field: field, Reason: reason}
	}
	if raw == "" {
		return bad("missing")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return bad("not an absolute http(s) URL")
	}
	if u.User != nil {
		return bad("must not carry credentials")
	}
	if u.Scheme == "http" && !insecure {
		return bad("must use https (plain http is allowed only with AllowInsecureHTTP, for tests)")
	}
	return nil
}

// revealed is params as a form (the cache key encodes it so).
func revealed(params map[string]Secret) url.Values {
	f := make(url.Values, len(params))
	for k, v := range params {
		f.Set(k, v.Reveal())
	}
	return f
}
