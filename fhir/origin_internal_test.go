package fhir

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOriginNormalisesDefaultPorts(t *testing.T) {
	tests := []struct{ a, b string }{
		{"https://ehr.example/fhir", "https://ehr.example:443/x"},
		{"HTTPS://EHR.example", "https://ehr.EXAMPLE:443"},
		{"http://ehr.example", "http://ehr.example:80/"},
		{"https://[::1]/", "https://[::1]:443/"},
	}
	for _, tt := range tests {
		a, err := url.Parse(tt.a)
		require.NoError(t, err)
		b, err := url.Parse(tt.b)
		require.NoError(t, err)
		assert.Equal(t, origin(a), origin(b), "%s ~ %s", tt.a, tt.b)
	}
}

type countDoer struct{ n int }

func (d *countDoer) Do(*http.Request) (*http.Response, error) {
	d.n++
	return nil, http.ErrHandlerTimeout
}

func TestOriginDoerRoutesDefaultPortLinks(t *testing.T) {
	base, _ := url.Parse("https://ehr.example/fhir")
	d := &countDoer{}
	od := originDoer{origin(base): d}
	req, err := http.NewRequest(http.MethodGet, "https://EHR.example:443/fhir/Patient?page=2", nil)
	require.NoError(t, err)
	_, _ = od.Do(req)
	assert.Equal(t, 1, d.n, "a next link with the explicit default port goes through the connection's Doer")
}
