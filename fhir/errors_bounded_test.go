package fhir_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

// A string a server sent — a resource type, a code, a reference, a link —
// reaches an error cut short: a server answering megabytes of it must not
// put megabytes in a log line.
func TestErrorsBoundWhatTheServerSent(t *testing.T) {
	long := strings.Repeat("Q", 20000)
	answer := func(body string) *fhir.Conn {
		conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = fmt.Fprint(w, body)
		})
		return conn
	}
	coding := models.Coding{System: ptr("http://s"), Code: ptr("c")}
	calls := map[string]func() error{
		"read of another type": func() error {
			_, err := fhir.Read[models.Patient](ctx(t), answer(`{"resourceType":"`+long+`"}`), "1")
			return err
		},
		"metadata answered with another resource": func() error {
			return answer(`{"resourceType":"` + long + `\nFORGED"}`).Ping(ctx(t))
		},
		"validate answered with no outcome": func() error {
			_, _, err := fhir.Validate(ctx(t), answer(`{"resourceType":"`+long+`"}`), &models.Patient{}, "", "")
			return err
		},
		"lookup answered with no Parameters": func() error {
			_, err := answer(`{"resourceType":"`+long+`"}`).Lookup(ctx(t), coding)
			return err
		},
		"translate with an unknown equivalence": func() error {
			_, err := answer(`{"resourceType":"Parameters","parameter":[{"name":"match","part":[{"name":"equivalence","valueCode":"`+long+`"}]}]}`).
				Translate(ctx(t), "", coding, "")
			return err
		},
		"history page of another type": func() error {
			return firstErr(answer(`{"resourceType":"`+long+`"}`).History(ctx(t), "Patient", "1", nil))
		},
		"next link to another origin": func() error {
			return firstErr(answer(`{"resourceType":"Bundle","type":"history","link":[{"relation":"next","url":"https://other.example/`+long+`"}]}`).
				History(ctx(t), "Patient", "1", nil))
		},
		"resolve a missing contained resource": func() error {
			_, err := answer(`{}`).Resolve(ctx(t), []byte(`{"resourceType":"Patient"}`), models.Reference{Reference: ptr("#" + long)})
			return err
		},
		"resolve a reference to another server": func() error {
			_, err := answer(`{}`).Resolve(ctx(t), nil, models.Reference{Reference: ptr("https://other.example/fhir/Patient/" + long)})
			return err
		},
		"resolve a reference with a long id": func() error {
			_, err := answer(`{}`).Resolve(ctx(t), nil, models.Reference{Reference: ptr("Patient/" + long)})
			return err
		},
		"export status URL on another origin": func() error {
			conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Location", "https://other.example/"+long)
				w.WriteHeader(http.StatusAccepted)
			})
			_, err := conn.Export(ctx(t))
			return err
		},
		"export file that is no http(s) URL": func() error {
			m := &fhir.Manifest{Output: []fhir.OutputFile{{Type: "Patient", URL: "ftp://files.example/" + long}}}
			return firstErr(answer(`{}`).ExportLines(ctx(t), m, m.Output[0]))
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			require.Error(t, err)
			assert.Less(t, len(err.Error()), 600, "%.300s", err)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}
