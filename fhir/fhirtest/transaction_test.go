package fhirtest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

func TestTransactionReferences(t *testing.T) {
	tests := map[string]struct {
		entries string
		status  int
		check   func(t *testing.T, srv *fhirtest.Server, body string)
	}{
		"a urn:uuid: naming no entry": {`[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:2"}},
			"request":{"method":"POST","url":"Observation"}}]`, http.StatusBadRequest, nil},
		"a conditional reference with two matches": {`[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?name=Twin"}},
			"request":{"method":"POST","url":"Observation"}}]`, http.StatusPreconditionFailed, nil},
		"a conditional reference with no match": {`[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?name=Nobody"}},
			"request":{"method":"POST","url":"Observation"}}]`, http.StatusPreconditionFailed, nil},
		"an ifNoneExist with two matches": {`[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},
			"request":{"method":"POST","url":"Patient","ifNoneExist":"name=Twin"}}]`, http.StatusPreconditionFailed, nil},
		"a PUT by urn:uuid: and a conditional update by urn:uuid:": {`[
			{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient","id":"c","name":[{"family":"Solo"}]},"request":{"method":"PUT","url":"Patient/c"}},
			{"fullUrl":"urn:uuid:n","resource":{"resourceType":"Patient","name":[{"family":"New"}]},"request":{"method":"PUT","url":"Patient?name=New"}},
			{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"id":"o","subject":{"reference":"urn:uuid:a"},"performer":[{"reference":"urn:uuid:n"},{"reference":"Patient?name=Solo"}]},
			 "request":{"method":"PUT","url":"Observation/o"}}]`, http.StatusOK,
			func(t *testing.T, srv *fhirtest.Server, body string) {
				b, ok := srv.Resource("Observation", "o")
				require.True(t, ok)
				var o struct {
					Subject   struct{ Reference string }
					Performer []struct{ Reference string }
				}
				require.NoError(t, json.Unmarshal(b, &o))
				assert.Equal(t, "Patient/c", o.Subject.Reference)
				require.Len(t, o.Performer, 2)
				assert.Regexp(t, `^Patient/\d+$`, o.Performer[0].Reference, "the conditional update created it")
				assert.Equal(t, "Patient/c", o.Performer[1].Reference)
				_, ok = srv.Resource("Patient", o.Performer[0].Reference[len("Patient/"):])
				assert.True(t, ok)
			}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			srv := seeded(t)
			resp, body := send(t, srv, "POST", "", `{"resourceType":"Bundle","type":"transaction","entry":`+tt.entries+`}`, nil)
			require.Equal(t, tt.status, resp.StatusCode, body)
			if tt.check != nil {
				tt.check(t, srv, body)
				return
			}
			assert.Contains(t, body, "OperationOutcome")
			_, ok := srv.Resource("Observation", "1")
			assert.False(t, ok, "nothing kept")
			_, ok = srv.Resource("Patient", "1")
			assert.False(t, ok, "nothing kept")
		})
	}
}
