package origin

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrigin(t *testing.T) {
	for _, tt := range []struct {
		name, a, b string
		same       bool
	}{
		{"default https port", "https://API.example.com/x", "https://api.example.com:443/y?q", true},
		{"default http port", "http://h/x", "HTTP://h:80", true},
		{"other port", "https://h", "https://h:8443", false},
		{"other scheme", "http://h:443", "https://h:443", false},
		{"other host", "https://a.example.com", "https://b.example.com", false},
		{"ipv6", "http://[::1]:8080/", "http://[::1]:8080/x", true},
		{"ipv6 default", "https://[2001:db8::1]/", "https://[2001:DB8::1]:443", true},
		{"kelvin sign is not k", "https://kms.example.com", "https://\u212ams.example.com", false},
		{"long s is not s", "https://sso.example.com", "https://\u017fso.example.com", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := url.Parse(tt.a)
			require.NoError(t, err)
			b, err := url.Parse(tt.b)
			require.NoError(t, err)
			assert.Equal(t, tt.same, Of(a) == Of(b))
			assert.Equal(t, tt.same, New(a).Match(b))
			assert.Equal(t, tt.same, New(b).Match(a))
		})
	}
	o, ok := Parse("https://EX.com/p")
	require.True(t, ok)
	assert.Equal(t, "https://ex.com:443", o.String())
	_, ok = Parse("/relative")
	assert.False(t, ok)
	assert.False(t, Origin{}.Match(&url.URL{}))
	assert.Equal(t, "http://[::1]:80", Of(&url.URL{Scheme: "http", Host: "[::1]"}))
}

func TestMatchAllocatesNothing(t *testing.T) {
	o, _ := Parse("https://api.example.com")
	u, _ := url.Parse("https://API.example.com:443/customers/42")
	assert.Zero(t, testing.AllocsPerRun(100, func() { o.Match(u) }))
}
