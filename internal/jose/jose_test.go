package jose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The RFC 7638 §3.1 example: an RSA key and its thumbprint.
func TestThumbprintRFC7638Example(t *testing.T) {
	jwk := map[string]any{"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
		"n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	tp, err := Thumbprint(jwk)
	require.NoError(t, err)
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", tp)
}

func TestJWKRoundTrip(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for name, pub := range map[string]any{"ec": &ec.PublicKey, "rsa": &rk.PublicKey} {
		jwk, err := PublicJWK(pub)
		require.NoError(t, err, name)
		back, err := ParsePublicJWK(jwk)
		require.NoError(t, err, name)
		assert.Equal(t, pub, back, name)
		_, hasD := jwk["d"]
		assert.False(t, hasD)
	}
	jwk, _ := PublicJWK(&ec.PublicKey)
	jwk["d"] = "AAAA"
	_, err = ParsePublicJWK(jwk)
	assert.Error(t, err, "private material refused")
	jwk, _ = PublicJWK(&ec.PublicKey)
	jwk["y"] = jwk["x"]
	_, err = ParsePublicJWK(jwk)
	assert.Error(t, err, "a point off the curve")
}
