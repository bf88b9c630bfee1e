package fhir_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// ssn is a patient identifier: it must never appear in an error.
const ssn = "123-45-6789"

// failingTransport fails every request with a message naming its URL, like
// a careless RoundTripper would.
type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s", r.URL)
}

func restDoer(t *testing.T, base string, rt http.RoundTripper) fhir.Doer {
	t.Helper()
	rc, err := rest.NewConn("ehr", rest.ConnConfig{BaseURL: base}, nil, rest.Options{
		AllowInsecureHTTP: true,
		Transport:         rt,
		Sleep:             func(context.Context, time.Duration) error { return nil },
	})
	require.NoError(t, err)
	return rc
}

func TestErrorsCarryNoQueryValues(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // dialling it is refused

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 100)))
	}))
	t.Cleanup(big.Close)

	outcome := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", fhir.MediaType)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",
			"diagnostics":"no patient with identifier %s (system urn:ssn)"}]}`, r.URL.Query().Get("identifier"))
	}))
	t.Cleanup(outcome.Close)

	tests := []struct {
		name string
		want string // kept from the cause
		conn func(t *testing.T) *fhir.Conn
	}{
		{"dial refused through rest.Conn", "connection refused", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", closed.URL, restDoer(t, closed.URL, nil))
			require.NoError(t, err)
			return c
		}},
		{"transport error naming the URL through rest.Conn", "proxy refused", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", closed.URL, restDoer(t, closed.URL, failingTransport{}))
			require.NoError(t, err)
			return c
		}},
		{"transport error naming the URL through http.Client", "proxy refused", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", closed.URL, &http.Client{Transport: failingTransport{}})
			require.NoError(t, err)
			return c
		}},
		{"oversized body", "too large", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", big.URL, restDoer(t, big.URL, nil), fhir.WithMaxBody(10))
			require.NoError(t, err)
			return c
		}},
		{"4xx with OperationOutcome echoing the value", "no patient with identifier REDACTED", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", outcome.URL, restDoer(t, outcome.URL, nil))
			require.NoError(t, err)
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := tt.conn(t)
			q := fhir.Params().Token("identifier", "urn:ssn", ssn)
			var err error
			for _, err = range fhir.Search[models.Patient](ctx(t), conn, q) {
				break
			}
			require.Error(t, err)
			var fe *fhir.Error
			require.True(t, errors.As(err, &fe), "%T: %v", err, err)
			t.Log(err)
			assert.Contains(t, err.Error(), "identifier=REDACTED")
			assert.Contains(t, err.Error(), tt.want)
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", fe.Err)} {
				assert.NotContains(t, s, ssn)
				assert.NotContains(t, s, "123-45")
				assert.NotContains(t, s, "urn%3Assn")
			}
		})
	}
}
