package oauthclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenwire/tokenwire/internal/jose"
	"github.com/tokenwire/tokenwire/internal/origin"
)

// dpopProver proves possession of a definition's DPoP key (RFC 9449): a
// fresh proof JWT per request, never cached, and the nonces servers ask
// for, kept per origin and refreshed from every response that carries one.
type dpopProver struct {
	key    crypto.Signer
	method jwt.SigningMethod
	jwk    map[string]any
	jkt    string // the key's thumbprint: what tokens are bound to
	header string // the proof's JOSE header, encoded once: typ, alg, jwk
	now    func() time.Time
	nonces sync.Map // origin string → nonce string
}

// newDPoPProver builds the prover of cfg: its DPoPKey or DPoPKeyPEM, or a
// new EC P-256 key kept in memory. Errors are *ConfigError.
func newDPoPProver(cfg Config, now func() time.Time) (*dpopProver, error) {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	key := cfg.DPoPKey
	switch {
	case key != nil:
	case !cfg.DPoPKeyPEM.IsZero():
		k, err := parsePrivateKey([]byte(cfg.DPoPKeyPEM.Reveal()))
		if err != nil {
			return nil, bad("dpop_key", err.Error())
		}
		key = k
	case cfg.DPoPAlg == "RS256" || cfg.DPoPAlg == "PS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, bad("dpop_key", "generating a key: "+err.Error())
		}
		key = k
	default:
		curve := elliptic.P256()
		if cfg.DPoPAlg == "ES384" {
			curve = elliptic.P384()
		}
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return nil, bad("dpop_key", "generating a key: "+err.Error())
		}
		key = k
	}
	alg := cfg.DPoPAlg
	if _, isEC := key.(*ecdsa.PrivateKey); alg == "" && !isEC {
		alg = "PS256" // RS384 is no DPoP default; PS256 is
	}
	method, err := signingMethod(alg, key)
	if err != nil {
		return nil, bad("dpop_alg", err.Error())
	}
	switch method.Alg() {
	case "ES256", "ES384", "RS256", "PS256":
	default:
		return nil, bad("dpop_alg", fmt.Sprintf("%s is not a DPoP algorithm here (want ES256, ES384, RS256 or PS256)", method.Alg()))
	}
	jwk, err := jose.PublicJWK(key.Public())
	if err != nil {
		return nil, bad("dpop_key", err.Error())
	}
	jkt, err := jose.Thumbprint(jwk)
	if err != nil {
		return nil, bad("dpop_key", err.Error())
	}
	h, err := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": method.Alg(), "jwk": jwk})
	if err != nil {
		return nil, bad("dpop_key", err.Error())
	}
	return &dpopProver{key: key, method: method, jwk: jwk, jkt: jkt, now: now, header: b64.EncodeToString(h)}, nil
}

// proof signs a DPoP proof for method and u (htu without query and
// fragment), with the nonce known for u's origin and, for a resource
// request, ath: the hash of the access token. The header is encoded once;
// the claims are written directly, never through a map.
func (p *dpopProver) proof(method string, u *url.URL, accessToken string) (string, error) {
	proof, _, err := p.proofNonce(method, u, accessToken)
	return proof, err
}

// proofNonce is proof, also returning the nonce the proof carries ("" for
// none), so that a challenge can tell a new nonce from the one it used.
func (p *dpopProver) proofNonce(method string, u *url.URL, accessToken string) (proof, nonce string, err error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", "", err
	}
	htu := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if htu.Path == "" {
		htu.Path = "/" // as the request line sends it (RFC 9449 §4.3, RFC 3986 §6.2.3)
	}
	c := make([]byte, 0, 256)
	c = append(c, `{"jti":"`...)
	c = hex.AppendEncode(c, jti[:])
	c = append(c, `","htm":`...)
	c = appendJSONString(c, method)
	c = append(c, `,"htu":`...)
	c = appendJSONString(c, htu.String())
	c = append(c, `,"iat":`...)
	c = strconv.AppendInt(c, p.now().Unix(), 10)
	if n, ok := p.nonces.Load(origin.Of(u)); ok {
		nonce = n.(string)
		c = append(c, `,"nonce":`...)
		c = appendJSONString(c, nonce)
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c = append(c, `,"ath":"`...)
		c = b64.AppendEncode(c, sum[:])
		c = append(c, '"')
	}
	c = append(c, '}')
	signing := p.header + "." + b64.EncodeToString(c)
	sig, err := p.method.Sign(signing, p.key)
	if err != nil {
		return "", "", err
	}
	return signing + "." + b64.EncodeToString(sig), nonce, nil
}

var b64 = base64.RawURLEncoding

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// noteNonce keeps the DPoP-Nonce a response from u's origin carried.
func (p *dpopProver) noteNonce(u *url.URL, h http.Header) {
	if n := h.Get("DPoP-Nonce"); n != "" {
		p.nonces.Store(origin.Of(u), n)
	}
}

// nonceChallenge reports whether a 401 asks for a DPoP nonce (RFC 9449
// §9): a DPoP challenge with error use_dpop_nonce, quoted or not, on any
// WWW-Authenticate line (which may hold several challenges).
func nonceChallenge(resp *http.Response) bool {
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		l := strings.ToLower(v)
		if i := strings.Index(l, "dpop"); i >= 0 && strings.Contains(l[i:], "use_dpop_nonce") {
			return true
		}
	}
	return false
}
