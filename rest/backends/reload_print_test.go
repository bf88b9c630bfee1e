package backends

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

func TestFingerprint(t *testing.T) {
	p := printer{key: []byte("k")}
	of := func(v any) fingerprint {
		h := p.start("t")
		p.value(h, reflect.ValueOf(v))
		return p.sum(h)
	}
	type cyclic struct {
		Name string
		Next *cyclic
	}
	loop := &cyclic{Name: "a"}
	loop.Next = loop
	for _, tc := range []struct {
		name string
		a, b any
		same bool
	}{
		{"a secret by value", SecurityConfig{Config: oauthclient.Config{ClientSecret: oauthclient.NewSecret("s")}}, SecurityConfig{Config: oauthclient.Config{ClientSecret: oauthclient.NewSecret("s")}}, true},
		{"another secret", SecurityConfig{Config: oauthclient.Config{ClientSecret: oauthclient.NewSecret("s")}}, SecurityConfig{Config: oauthclient.Config{ClientSecret: oauthclient.NewSecret("t")}}, false},
		{"secret params", SecurityConfig{Config: oauthclient.Config{Params: map[string]oauthclient.Secret{"a": oauthclient.NewSecret("1")}}}, SecurityConfig{Config: oauthclient.Config{Params: map[string]oauthclient.Secret{"a": oauthclient.NewSecret("2")}}}, false},
		{"a supplier's file", SecurityConfig{Config: oauthclient.Config{Grant: oauthclient.JWTBearer{Assertion: &supplierSection{File: "/a"}}}}, SecurityConfig{Config: oauthclient.Config{Grant: oauthclient.JWTBearer{Assertion: &supplierSection{File: "/b"}}}}, false},
		{"a supplier's value", SecurityConfig{Config: oauthclient.Config{Grant: oauthclient.RefreshToken{Token: &supplierSection{Value: oauthclient.NewSecret("1")}}}}, SecurityConfig{Config: oauthclient.Config{Grant: oauthclient.RefreshToken{Token: &supplierSection{Value: oauthclient.NewSecret("2")}}}}, false},
		{"the same grant", SecurityConfig{Config: oauthclient.Config{Grant: oauthclient.RefreshToken{Token: &supplierSection{File: "/a"}}}}, SecurityConfig{Config: oauthclient.Config{Grant: oauthclient.RefreshToken{Token: &supplierSection{File: "/a"}}}}, true},
		{"nil and empty", rest.ConnConfig{Headers: map[string]string{}}, rest.ConnConfig{}, true},
		{"map order", rest.ConnConfig{Headers: map[string]string{"A": "1", "B": "2"}}, rest.ConnConfig{Headers: map[string]string{"B": "2", "A": "1"}}, true},
		{"value moved to another key", rest.ConnConfig{Headers: map[string]string{"A": "1", "B": ""}}, rest.ConnConfig{Headers: map[string]string{"A": "", "B": "1"}}, false},
		{"strings split differently", SecurityConfig{Config: oauthclient.Config{Scopes: []string{"ab", "c"}}}, SecurityConfig{Config: oauthclient.Config{Scopes: []string{"a", "bc"}}}, false},
		{"no memory store and an empty one", StoreConfig{}, StoreConfig{Memory: &MemoryStoreConfig{}}, false},
		{"a cycle ends", loop, loop, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.same, of(tc.a) == of(tc.b))
		})
	}
	other := printer{key: []byte("other")}
	h := other.start("t")
	other.value(h, reflect.ValueOf(rest.ConnConfig{}))
	assert.NotEqual(t, of(rest.ConnConfig{}), other.sum(h), "keyed: another registry's fingerprints differ")
}
