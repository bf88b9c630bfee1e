package oauthtest

import (
	"bytes"
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Client authentication methods, as reported in [Request].AuthMethod.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthClientSecretJWT   = "client_secret_jwt"
	AuthTLSClientAuth     = "tls_client_auth"
	AuthNone              = "none"
)

type clientKind int

const (
	secretClient clientKind = iota
	publicClient
	jwtClient
	tlsClient
	secretJWTClient
)

type client struct {
	id     string
	kind   clientKind
	secret string
	key    crypto.PublicKey
	kid    string
	cert   *x509.Certificate
	scopes []string // allowed scopes; empty allows any
}

// AddClient registers a confidential client that authenticates with its
// secret, either in a Basic header (client_secret_basic) or in the form
// (client_secret_post). If scopes are given, the client may request only
// those; otherwise it may request any. Adding a client again replaces it.
func (s *Server) AddClient(id, secret string, scopes ...string) {
	s.add(&client{id: id, kind: secretClient, secret: secret, scopes: scopes})
}

// AddPublicClient registers a client that sends only its client_id (token
// endpoint authentication method "none").
func (s *Server) AddPublicClient(id string, scopes ...string) {
	s.add(&client{id: id, kind: publicClient, scopes: scopes})
}

// AddJWTClient registers a client that authenticates with a JWT assertion
// (private_key_jwt, RFC 7523) signed by the private key of key: an
// *rsa.PublicKey (RS256, RS384, PS256) or an *ecdsa.PublicKey on P-256
// (ES256) or P-384 (ES384). A private key is accepted too; its public half is
// used. If kid is not empty, an assertion that names a different kid in its
// header is rejected. AddJWTClient panics on any other key type.
func (s *Server) AddJWTClient(id string, key crypto.PublicKey, kid string, scopes ...string) {
	s.add(&client{id: id, kind: jwtClient, key: publicKey(key), kid: kid, scopes: scopes})
}

// AddSecretJWTClient registers a client that authenticates with a JWT
// assertion signed with its secret (client_secret_jwt, RFC 7523 and OpenID
// Connect Core §9: HS256, HS384 or HS512), with the same checks as
// AddJWTClient's (iss = sub = client_id, aud, exp at most 5 minutes ahead,
// a jti never seen before).
func (s *Server) AddSecretJWTClient(id, secret string, scopes ...string) {
	s.add(&client{id: id, kind: secretJWTClient, secret: secret, scopes: scopes})
}

// AddTLSClient registers a client that authenticates with a TLS client
// certificate (tls_client_auth, RFC 8705): the leaf certificate it presents
// must be cert. The client must also send its client_id. It needs a server
// from [NewTLSServer].
func (s *Server) AddTLSClient(id string, cert *x509.Certificate, scopes ...string) {
	s.add(&client{id: id, kind: tlsClient, cert: cert, scopes: scopes})
}

func (s *Server) add(c *client) {
	c.scopes = slices.Clone(c.scopes)
	s.mu.Lock()
	s.clients[c.id] = c
	s.mu.Unlock()
}

func (s *Server) lookup(id string) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// authenticate identifies and authenticates the client of a parsed token
// request. It returns the client and the method it used, or the error
// response to send.
func (s *Server) authenticate(r *http.Request) (*client, string, *Response) {
	form := r.PostForm
	if _, ok := basicCredentials(r); ok {
		return s.authBasic(r)
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		if form.Get("client_secret") != "" {
			return nil, "", badRequest("more than one client authentication method")
		}
		return s.authAssertion(form)
	}
	id := form.Get("client_id")
	if id == "" {
		return nil, "", invalidClient("no client authentication", false)
	}
	c := s.lookup(id)
	if c == nil {
		return nil, "", invalidClient("unknown client", false)
	}
	secret := form.Get("client_secret")
	switch {
	case c.kind == secretClient && secret != "":
		if !equal(c.secret, secret) {
			return nil, "", invalidClient("wrong client secret", false)
		}
		return c, AuthClientSecretPost, nil
	case secret != "":
		return nil, "", invalidClient("client has no secret", false)
	case c.kind == publicClient:
		return c, AuthNone, nil
	case c.kind == tlsClient:
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 ||
			!bytes.Equal(r.TLS.PeerCertificates[0].Raw, c.cert.Raw) {
			return nil, "", invalidClient("client certificate missing or not registered", false)
		}
		return c, AuthTLSClientAuth, nil
	case c.kind == jwtClient:
		return nil, "", invalidClient("client assertion required", false)
	default:
		return nil, "", invalidClient("client secret required", false)
	}
}

func (s *Server) authBasic(r *http.Request) (*client, string, *Response) {
	form := r.PostForm
	if form.Get("client_secret") != "" || form.Has("client_assertion") {
		return nil, "", badRequest("more than one client authentication method")
	}
	creds, _ := basicCredentials(r)
	id, secret, ok := decodeBasic(creds)
	if !ok {
		return nil, "", invalidClient("malformed Basic credentials", true)
	}
	if fid := form.Get("client_id"); fid != "" && fid != id {
		return nil, "", badRequest("client_id does not match the Basic credentials")
	}
	c := s.lookup(id)
	if c == nil || c.kind != secretClient || !equal(c.secret, secret) {
		return nil, "", invalidClient("unknown client or wrong client secret", true)
	}
	return c, AuthClientSecretBasic, nil
}

// basicCredentials returns the base64 credentials of a Basic Authorization
// header.
func basicCredentials(r *http.Request) (string, bool) {
	scheme, creds, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	return strings.TrimSpace(creds), true
}

// decodeBasic decodes Basic credentials whose id and secret were
// form-urlencoded before base64 encoding (RFC 6749 §2.3.1).
func decodeBasic(creds string) (id, secret string, ok bool) {
	b, err := base64.StdEncoding.DecodeString(creds)
	if err != nil {
		return "", "", false
	}
	rawID, rawSecret, ok := strings.Cut(string(b), ":")
	if !ok {
		return "", "", false
	}
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	return id, secret, err1 == nil && err2 == nil
}

// peekClientID returns the client id a request names, before any
// authentication, for counting.
func peekClientID(r *http.Request) string {
	if creds, ok := basicCredentials(r); ok {
		if id, _, ok := decodeBasic(creds); ok {
			return id
		}
		return ""
	}
	if id := r.PostForm.Get("client_id"); id != "" {
		return id
	}
	return assertionIssuer(r.PostForm.Get("client_assertion"))
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func badRequest(desc string) *Response {
	r := OAuthError(http.StatusBadRequest, "invalid_request", desc)
	return &r
}

func invalidClient(desc string, basic bool) *Response {
	r := OAuthError(http.StatusUnauthorized, "invalid_client", desc)
	if basic {
		r.Header.Set("WWW-Authenticate", `Basic realm="oauthtest"`)
	}
	return &r
}
