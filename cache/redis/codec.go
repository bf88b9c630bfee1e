package redis

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
)

// Stored value layout. Every value starts with a version byte:
//
//	versionGCM:   version | key id | nonce (12) | AES-256-GCM(payload)
//	versionPlain: version | payload
//
// payload is expiry seconds (8, big endian) | expiry nanoseconds (4) |
// value. The GCM additional data is the two header bytes followed by the
// Redis key, so a value copied under another key does not decrypt.
const (
	versionGCM   byte = 1
	versionPlain byte = 2

	nonceSize    = 12
	expirySize   = 12
	gcmHeaderLen = 2 + nonceSize
)

var (
	errUnreadable = errors.New("stored value unreadable")
	errNoKey      = errors.New("no configured key decrypts the stored value")
)

// aeadKey is one configured encryption key with its one-byte id.
type aeadKey struct {
	id   byte
	aead cipher.AEAD
}

// codec turns entries into stored values and back.
type codec struct {
	keys []aeadKey // keys[0] encrypts; none means plaintext
}

func newCodec(keys [][]byte) (*codec, error) {
	c := &codec{}
	for _, k := range keys {
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.keys = append(c.keys, aeadKey{id: keyID(k), aead: aead})
	}
	return c, nil
}

// keyID is a one-byte fingerprint of a key: it picks the key to try first,
// and reveals next to nothing about it.
func keyID(k []byte) byte {
	h := sha256.New()
	h.Write([]byte("tokenwire cache/redis key id\x00"))
	h.Write(k)
	return h.Sum(nil)[0]
}

// hashKey returns the hex SHA-256 of a caller's key.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func (c *codec) seal(redisKey string, value []byte, expiry time.Time) []byte {
	if len(c.keys) == 0 {
		out := make([]byte, 1, 1+expirySize+len(value))
		out[0] = versionPlain
		return appendPayload(out, value, expiry)
	}
	k := c.keys[0]
	plain := appendPayload(make([]byte, 0, expirySize+len(value)), value, expiry)
	out := make([]byte, gcmHeaderLen, gcmHeaderLen+len(plain)+k.aead.Overhead())
	out[0], out[1] = versionGCM, k.id
	_, _ = rand.Read(out[2:gcmHeaderLen]) // never fails (crypto/rand, Go 1.24+)
	return k.aead.Seal(out, out[2:gcmHeaderLen], plain, additionalData(out[:2], redisKey))
}

func (c *codec) open(redisKey string, stored []byte) (value []byte, expiry time.Time, err error) {
	if len(stored) == 0 {
		return nil, time.Time{}, errUnreadable
	}
	switch {
	case stored[0] == versionPlain && len(c.keys) == 0:
		return parsePayload(stored[1:])
	case stored[0] == versionGCM && len(c.keys) > 0 && len(stored) >= gcmHeaderLen:
		plain, err := c.decrypt(redisKey, stored)
		if err != nil {
			return nil, time.Time{}, err
		}
		return parsePayload(plain)
	}
	return nil, time.Time{}, errUnreadable
}

// decrypt tries the keys whose id matches first, then every other key, so
// a value whose key id collides or was tampered with is still read.
func (c *codec) decrypt(redisKey string, stored []byte) ([]byte, error) {
	ad := additionalData(stored[:2], redisKey)
	nonce, ct := stored[2:gcmHeaderLen], stored[gcmHeaderLen:]
	for _, matching := range []bool{true, false} {
		for _, k := range c.keys {
			if (k.id == stored[1]) != matching {
				continue
			}
			if plain, err := k.aead.Open(nil, nonce, ct, ad); err == nil {
				return plain, nil
			}
		}
	}
	return nil, errNoKey
}

func additionalData(header []byte, redisKey string) []byte {
	return append(append(make([]byte, 0, len(header)+len(redisKey)), header...), redisKey...)
}

func appendPayload(b, value []byte, expiry time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(expiry.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(expiry.Nanosecond()))
	return append(b, value...)
}

func parsePayload(p []byte) ([]byte, time.Time, error) {
	if len(p) < expirySize {
		return nil, time.Time{}, errUnreadable
	}
	sec := int64(binary.BigEndian.Uint64(p))
	nsec := int64(binary.BigEndian.Uint32(p[8:]))
	if nsec >= int64(time.Second) {
		return nil, time.Time{}, errUnreadable
	}
	return p[expirySize:], time.Unix(sec, nsec), nil // p is a fresh buffer
}
