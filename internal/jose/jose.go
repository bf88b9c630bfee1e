// Package jose holds the JSON Web Key pieces that DPoP (RFC 9449) needs on
// both sides — the client that proves possession of a key and the test
// authorization server that checks it: a public key as a JWK (RFC 7517),
// back again, and its thumbprint (RFC 7638).
package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

var b64 = base64.RawURLEncoding

// PublicJWK returns the public JWK of pub: EC (P-256, P-384, P-521) or RSA.
// It never holds private material.
func PublicJWK(pub crypto.PublicKey) (map[string]any, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		crv := map[elliptic.Curve]string{elliptic.P256(): "P-256", elliptic.P384(): "P-384", elliptic.P521(): "P-521"}[k.Curve]
		if crv == "" {
			return nil, errors.New("unsupported EC curve")
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		return map[string]any{"kty": "EC", "crv": crv, "x": b64.EncodeToString(k.X.FillBytes(make([]byte, size))),
			"y": b64.EncodeToString(k.Y.FillBytes(make([]byte, size)))}, nil
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK, base64url:
// the "jkt" a DPoP-bound token is bound to.
func Thumbprint(jwk map[string]any) (string, error) {
	var members []string
	switch jwk["kty"] {
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "RSA":
		members = []string{"e", "kty", "n"}
	default:
		return "", fmt.Errorf("unsupported kty %v", jwk["kty"])
	}
	// Required members only, in lexicographic order, no whitespace.
	b := []byte{'{'}
	for i, m := range members {
		v, ok := jwk[m].(string)
		if !ok || v == "" {
			return "", fmt.Errorf("JWK member %q is missing", m)
		}
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(m)
		val, _ := json.Marshal(v)
		b = append(append(append(b, k...), ':'), val...)
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return b64.EncodeToString(sum[:]), nil
}

// ParsePublicJWK reads a public EC or RSA JWK; one carrying private
// members ("d", "p", "q"…) is refused.
func ParsePublicJWK(jwk map[string]any) (crypto.PublicKey, error) {
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := jwk[private]; ok {
			return nil, errors.New("the JWK holds private key material")
		}
	}
	num := func(m string) (*big.Int, error) {
		s, _ := jwk[m].(string)
		b, err := b64.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("JWK member %q is not base64url", m)
		}
		return new(big.Int).SetBytes(b), nil
	}
	switch jwk["kty"] {
	case "EC":
		crv := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[fmt.Sprint(jwk["crv"])]
		if crv == nil {
			return nil, errors.New("unsupported EC curve")
		}
		x, err := num("x")
		if err != nil {
			return nil, err
		}
		y, err := num("y")
		if err != nil {
			return nil, err
		}
		if !crv.IsOnCurve(x, y) { //nolint:staticcheck // the point check is what is wanted here
			return nil, errors.New("the EC point is not on its curve")
		}
		return &ecdsa.PublicKey{Curve: crv, X: x, Y: y}, nil
	case "RSA":
		n, err := num("n")
		if err != nil {
			return nil, err
		}
		e, err := num("e")
		if err != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31 {
			return nil, errors.New("JWK member \"e\" is not a valid exponent")
		}
		if n.BitLen() < 2048 {
			return nil, errors.New("RSA key shorter than 2048 bits")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	}
	return nil, fmt.Errorf("unsupported kty %v", jwk["kty"])
}
