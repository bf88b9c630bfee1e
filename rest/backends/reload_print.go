package backends

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"reflect"
	"slices"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// fingerprint identifies an entry's effective configuration: every field,
// secrets by value, and the contents of the files it names. It is an
// HMAC under a key of the registry's own, so it reveals nothing about a
// secret even to one who sees it (nothing prints it).
type fingerprint [sha256.Size]byte

func newPrintKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	return key, nil
}

// printer computes fingerprints, reading the files entries name with read.
type printer struct {
	key  []byte
	read func(string) ([]byte, error)
}

// security fingerprints a definition, with what makes a SMART one: its
// base URL and the TLS settings of the connection that reads its discovery
// document.
func (p printer) security(name string, sc SecurityConfig, cfg *Config, u users) fingerprint {
	h := p.start("security")
	p.value(h, reflect.ValueOf(sc))
	// The contents of ca_file count; cert_file and key_file count by their
	// paths only: the source follows their contents itself (a rotation on
	// disk needs no rebuild, and drops only the tokens bound to the old
	// certificate).
	p.files(h, sc.CAFile)
	if u.isSMART(name, sc) {
		cc := cfg.FHIR[smartBuilder(cfg, name)].ConnConfig
		p.str(h, u.smartBase(name))
		p.value(h, reflect.ValueOf(cc.TLS))
		p.value(h, reflect.ValueOf(cc.Pool))
		p.files(h, cc.TLS.CAFile, cc.TLS.CertFile, cc.TLS.KeyFile)
	}
	return p.sum(h)
}

// conn fingerprints a connection of the section kind with its definition's
// fingerprint sec.
func (p printer) conn(kind string, cc ConnConfig, smart bool, sec fingerprint) fingerprint {
	h := p.start(kind)
	p.value(h, reflect.ValueOf(cc))
	p.value(h, reflect.ValueOf(smart))
	p.files(h, cc.TLS.CAFile, cc.TLS.CertFile, cc.TLS.KeyFile)
	_, _ = h.Write(sec[:])
	return p.sum(h)
}

// store fingerprints the store section.
func (p printer) store(sc StoreConfig) fingerprint {
	h := p.start("store")
	p.value(h, reflect.ValueOf(sc))
	return p.sum(h)
}

func (p printer) start(kind string) hash.Hash {
	h := hmac.New(sha256.New, p.key)
	p.str(h, kind)
	return h
}

func (p printer) sum(h hash.Hash) (f fingerprint) {
	copy(f[:], h.Sum(nil))
	return f
}

// files writes the contents of the named files ("" is none): a
// certificate renewed under the same path changes the entry.
func (p printer) files(h hash.Hash, paths ...string) {
	for _, path := range paths {
		p.str(h, path)
		if path == "" {
			continue
		}
		b, err := p.read(path)
		if err != nil {
			p.str(h, "unreadable")
			continue
		}
		p.str(h, string(b))
	}
}

// maxDepth bounds value's descent: configuration is shallow, and a store
// driver's section with a pointer cycle must not loop.
const maxDepth = 16

// value writes v: exported fields by name, maps in key order, a nil map or
// slice like an empty one, a Secret by its value.
func (p printer) value(h hash.Hash, v reflect.Value) { p.walk(h, v, 0) }

func (p printer) walk(h hash.Hash, v reflect.Value, depth int) {
	if depth > maxDepth {
		p.str(h, "…")
		return
	}
	depth++
	if v.Type() == secretType {
		p.str(h, v.Interface().(oauthclient.Secret).Reveal())
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			p.int(h, 0)
			return
		}
		p.int(h, 1)
		p.str(h, v.Elem().Type().String())
		p.walk(h, v.Elem(), depth)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				p.str(h, f.Name)
				p.walk(h, v.Field(i), depth)
			}
		}
	case reflect.Slice, reflect.Array:
		p.int(h, uint64(v.Len()))
		for i := range v.Len() {
			p.walk(h, v.Index(i), depth)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, compareKeys)
		p.int(h, uint64(len(keys)))
		for _, k := range keys {
			p.walk(h, k, depth)
			p.walk(h, v.MapIndex(k), depth)
		}
	default:
		p.scalar(h, v)
	}
}

func (p printer) scalar(h hash.Hash, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		p.str(h, v.String())
	case reflect.Bool:
		var b uint64
		if v.Bool() {
			b = 1
		}
		p.int(h, b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.int(h, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.int(h, v.Uint())
	case reflect.Float32, reflect.Float64:
		p.int(h, math.Float64bits(v.Float()))
	default: // funcs, channels: not configuration a file holds
		p.str(h, v.Kind().String())
	}
}

// compareKeys orders map keys: strings as such, others by their printed
// form (no configuration map has secret keys).
func compareKeys(a, b reflect.Value) int {
	if a.Kind() == reflect.String {
		return cmp.Compare(a.String(), b.String())
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func (p printer) str(h hash.Hash, s string) {
	p.int(h, uint64(len(s)))
	_, _ = h.Write([]byte(s))
}

func (p printer) int(h hash.Hash, n uint64) {
	_, _ = h.Write(binary.BigEndian.AppendUint64(nil, n))
}
