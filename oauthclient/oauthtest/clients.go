package oauthtest

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The client authentication methods, as [Client].Auth and
// [Request].AuthMethod name them.
const (
	authClientSecretBasic = "client_secret_basic"
	authClientSecretPost  = "client_secret_post"
	authPrivateKeyJWT     = "private_key_jwt"
	authClientSecretJWT   = "client_secret_jwt"
	authTLSClientAuth     = "tls_client_auth"
	authNone              = "none"
)

type clientKind int

const (
	secretClient clientKind = iota
	publicClient
	jwtClient
	tlsClient
	secretJWTClient
)

// Client is a client of the server: its id, how it authenticates at the
// token endpoint, and what it may do.
type Client struct {
	ID string
	// Auth is its token endpoint authentication method. Default: by what
	// it is given — "private_key_jwt" with a Key, "tls_client_auth" with a
	// Certificate, "client_secret_basic" with a Secret (which also accepts
	// client_secret_post: the secret in the form), "none" (a public client
	// that sends only its client_id) with none of them. Set it to
	// "client_secret_jwt" for an assertion signed with the Secret (HS256,
	// HS384 or HS512).
	Auth   string
	Secret string
	// Key verifies its private_key_jwt assertions (RFC 7523): an
	// *rsa.PublicKey (RS256, RS384, PS256) or an *ecdsa.PublicKey on P-256
	// (ES256) or P-384 (ES384); a private key's public half is used. With a
	// KeyID, an assertion that names another kid is refused. Assertions
	// must have iss = sub = ID, the token endpoint (or the server's URL) as
	// aud, an exp at most 5 minutes ahead and a jti never seen before.
	Key   crypto.PublicKey
	KeyID string
	// Certificate is the leaf certificate it presents for tls_client_auth
	// (RFC 8705), with its client_id; it needs a server from
	// [NewTLSServer].
	Certificate *x509.Certificate
	// Scopes are the scopes it may request; empty allows any.
	Scopes []string
	// Subject approves its authorization requests (the Subject of the
	// tokens a code is redeemed for). Default "alice".
	Subject string
	// KeepRefreshToken makes its refresh requests keep the refresh token.
	// By default each one rotates it: a rotated token may be used once, and
	// using it again is answered invalid_grant and revokes its family —
	// every refresh token and access token descending from the same
	// authorisation.
	KeepRefreshToken bool
}

type client struct {
	id          string
	kind        clientKind
	secret      string
	key         crypto.PublicKey
	kid         string
	cert        *x509.Certificate
	scopes      []string // allowed scopes; empty allows any
	subject     string
	keepRefresh bool
}

// AddClient registers c; adding a client again replaces it. It panics on
// an Auth it does not know, or without what that method needs (a Key, a
// Certificate, a Secret), as a test that sets it up wrong should stop.
func (s *Server) AddClient(c Client) {
	auth := c.Auth
	if auth == "" {
		switch {
		case c.Key != nil:
			auth = authPrivateKeyJWT
		case c.Certificate != nil:
			auth = authTLSClientAuth
		case c.Secret != "":
			auth = authClientSecretBasic
		default:
			auth = authNone
		}
	}
	in := &client{id: c.ID, secret: c.Secret, kid: c.KeyID, cert: c.Certificate, scopes: c.Scopes,
		subject: cmp.Or(c.Subject, "alice"), keepRefresh: c.KeepRefreshToken}
	need := func(ok bool, what string) {
		if !ok {
			panic("oauthtest: AddClient " + c.ID + ": " + auth + " needs " + what)
		}
	}
	switch auth {
	case authClientSecretBasic, authClientSecretPost:
		need(c.Secret != "", "a Secret")
		in.kind = secretClient
	case authClientSecretJWT:
		need(c.Secret != "", "a Secret")
		in.kind = secretJWTClient
	case authPrivateKeyJWT:
		need(c.Key != nil, "a Key")
		in.kind, in.key = jwtClient, publicKey(c.Key)
	case authTLSClientAuth:
		need(c.Certificate != nil, "a Certificate")
		in.kind = tlsClient
	case authNone:
		in.kind = publicClient
	default:
		panic("oauthtest: AddClient " + c.ID + ": unknown Auth " + strconv.Quote(auth))
	}
	s.add(in)
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
		return c, authClientSecretPost, nil
	case secret != "":
		return nil, "", invalidClient("client has no secret", false)
	case c.kind == publicClient:
		return c, authNone, nil
	case c.kind == tlsClient:
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 ||
			!bytes.Equal(r.TLS.PeerCertificates[0].Raw, c.cert.Raw) {
			return nil, "", invalidClient("client certificate missing or not registered", false)
		}
		return c, authTLSClientAuth, nil
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
	return c, authClientSecretBasic, nil
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
