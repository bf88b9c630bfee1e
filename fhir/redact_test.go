package fhir_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/internal/refusing"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
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

func TestErrorsCarryNoQueryValues(t *testing.T) {
	closed := refusing.URL(t)

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 100)))
	}))
	t.Cleanup(big.Close)

	outcome := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
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
			c, err := fhir.New("ehr", closed, restDoer(t, closed, nil))
			require.NoError(t, err)
			return c
		}},
		{"transport error naming the URL through rest.Conn", "proxy refused", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", closed, restDoer(t, closed, failingTransport{}))
			require.NoError(t, err)
			return c
		}},
		{"transport error naming the URL through http.Client", "proxy refused", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", closed, &http.Client{Transport: failingTransport{}})
			require.NoError(t, err)
			return c
		}},
		{"oversized body", "too large", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", big.URL, restDoer(t, big.URL, nil), fhir.WithMaxBody(10))
			require.NoError(t, err)
			return c
		}},
		{"4xx with OperationOutcome echoing the value", "no patient with identifier [redacted]", func(t *testing.T) *fhir.Conn {
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
			assert.Contains(t, err.Error(), "identifier=[redacted]")
			assert.Contains(t, err.Error(), tt.want)
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", fe.Err)} {
				assert.NotContains(t, s, ssn)
				assert.NotContains(t, s, "123-45")
				assert.NotContains(t, s, "urn%3Assn")
			}
		})
	}
}

// bearerTransport sets the Authorization header itself, as a Doer that
// knows nothing of rest or oauthclient would.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// A backend that echoes the credential it was sent ("token Bearer eyJ…
// lacks scope") never gets it into an error: not in the text, not in the
// issues, not in the wrapped *rest.Error's excerpt.
func TestErrorsScrubTheCredentialSent(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "ehr-client", Secret: "s3cret-77", Scopes: []string{"system/*.read"}})

	var seenMu sync.Mutex
	var seen []string // the credentials the backend received
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		seenMu.Lock()
		seen = append(seen, strings.TrimPrefix(auth, "Bearer "))
		seenMu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, `{"resourceType":"OperationOutcome","text":{"div":"token %[1]s lacks scope"},
			"issue":[{"severity":"error","code":"forbidden","diagnostics":"token %[1]s lacks scope system/Patient.read"}]}`, auth)
	}))
	t.Cleanup(backend.Close)

	tests := []struct {
		name string
		conn func(t *testing.T) *fhir.Conn
	}{
		{"rest.Conn with OAuth", func(t *testing.T) *fhir.Conn {
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "ehr", TokenURL: as.TokenURL(), ClientID: "ehr-client",
				ClientSecret: oauthclient.NewSecret("s3cret-77"), Scopes: []string{"system/*.read"}}, oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			rc, err := rest.NewConn("ehr", rest.ConnConfig{BaseURL: backend.URL}, rest.OAuth(src), rest.AllowInsecureHTTP())
			require.NoError(t, err)
			c, err := fhir.New("ehr", backend.URL, rc)
			require.NoError(t, err)
			return c
		}},
		{"http.Client setting Authorization itself", func(t *testing.T) *fhir.Conn {
			c, err := fhir.New("ehr", backend.URL, &http.Client{Transport: bearerTransport{"static-tok-SECRET-42", http.DefaultTransport}})
			require.NoError(t, err)
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seenMu.Lock()
			seen = nil
			seenMu.Unlock()

			_, err := fhir.Read[models.Patient](ctx(t), tt.conn(t), "1")
			require.Error(t, err)
			seenMu.Lock()
			require.Len(t, seen, 1, "one request, no retry on 403")
			token := seen[0]
			seenMu.Unlock()
			require.NotEmpty(t, token, "the backend was sent a credential to echo")

			assert.ErrorIs(t, err, rest.ErrForbidden)
			var fe *fhir.Error
			require.ErrorAs(t, err, &fe)
			var re *rest.Error
			require.ErrorAs(t, err, &re)
			t.Log(err)

			require.Len(t, fe.Issues, 1)
			assert.Equal(t, "token [redacted] lacks scope system/Patient.read", fe.Issues[0].Diagnostics)
			assert.Contains(t, err.Error(), "token [redacted] lacks scope", "the message keeps the diagnostics")
			assert.Contains(t, re.Excerpt, "token [redacted] lacks scope", "the excerpt keeps the body")
			for name, s := range map[string]string{
				"Error()": err.Error(), "%+v": fmt.Sprintf("%+v", err), "%#v of the *fhir.Error": fmt.Sprintf("%#v", fe),
				"%#v of the *rest.Error": fmt.Sprintf("%#v", re), "Excerpt": re.Excerpt, "Diagnostics": fe.Issues[0].Diagnostics,
			} {
				assert.NotContains(t, s, token, name)
				assert.NotContains(t, s, "s3cret-77", name)
			}
		})
	}
}

// A *fhir.Conn holds no secret itself: whatever the verb, printing it
// never shows the credential of the connection under it.
func TestConnPrintsNoCredential(t *testing.T) {
	const base = "https://ehr.example.com/fhir/R4"
	rc, err := rest.NewConn("ehr", rest.ConnConfig{BaseURL: base}, rest.Bearer("tok-SECRET"))
	require.NoError(t, err)
	conn, err := fhir.New("ehr", base, rc)
	require.NoError(t, err)

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q", "%x"} {
		t.Run(verb, func(t *testing.T) {
			for _, s := range []string{fmt.Sprintf(verb, conn), fmt.Sprintf(verb, []*fhir.Conn{conn}),
				fmt.Sprintf(verb, struct{ C *fhir.Conn }{conn})} {
				assert.NotContains(t, s, "tok-SECRET")
			}
		})
	}
	assert.Contains(t, fmt.Sprintf("%+v", conn), "name:ehr", "the name shows")
}

// KNOWN BUG (fails; see the report): the issues of a *fhir.Error are parsed
// from the raw body and scrubbed only of search values and of the
// standard credential headers (Authorization, Cookie…), not of the
// credential a rest.Conn added in a header of its own or in the query.
// rest scrubs the same text out of the excerpt, so the key shows in
// Issues and in Error() only.
func TestErrorsScrubAPIKeysEchoedInIssues(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-API-Key") + r.URL.Query().Get("api_key")
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden",
			"diagnostics":"API key %s is not valid for this tenant"}]}`, key)
	}))
	t.Cleanup(backend.Close)

	tests := []struct {
		name, key string
		sec       rest.Security
	}{
		{"apikey in a header", "hdr-key-SECRET-9", rest.APIKeyHeader("X-API-Key", "hdr-key-SECRET-9")},
		{"apikey in the query", "qry-key-SECRET-8", rest.APIKeyQuery("api_key", "qry-key-SECRET-8")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := rest.NewConn("ehr", rest.ConnConfig{BaseURL: backend.URL}, tt.sec, rest.AllowInsecureHTTP())
			require.NoError(t, err)
			conn, err := fhir.New("ehr", backend.URL, rc)
			require.NoError(t, err)

			_, err = fhir.Read[models.Patient](ctx(t), conn, "1")
			var fe *fhir.Error
			require.ErrorAs(t, err, &fe)
			var re *rest.Error
			require.ErrorAs(t, err, &re)
			require.Len(t, fe.Issues, 1)
			assert.Equal(t, "API key [redacted] is not valid for this tenant", fe.Issues[0].Diagnostics)
			assert.Contains(t, re.Excerpt, "API key [redacted] is not valid", "rest scrubs its excerpt")
			assert.NotContains(t, err.Error(), tt.key)
			assert.NotContains(t, re.Excerpt, tt.key)
		})
	}
}
