package fhir_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// colors is a terminology of the test's own, with urls no other run uses:
// a code system, a value set of part of it and a map to another system.
type colors struct {
	system, valueSet, conceptMap, target string
}

func putColors(t *testing.T, conn *fhir.Conn) colors {
	t.Helper()
	id := testID(t, "colors")
	c := colors{system: "http://example.org/test/CodeSystem/" + id, valueSet: "http://example.org/test/ValueSet/" + id,
		conceptMap: "http://example.org/test/ConceptMap/" + id, target: "http://example.org/test/CodeSystem/rgb-" + id}
	docs := []string{`{"resourceType":"CodeSystem","id":"` + id + `","url":"` + c.system + `","version":"2","name":"Colors",
	  "status":"active","content":"complete","property":[{"code":"hex","type":"string"},{"code":"warm","type":"boolean"}],
	  "concept":[
	   {"code":"red","display":"Red","designation":[{"language":"fr","value":"Rouge"}],
	    "property":[{"code":"hex","valueString":"#f00"},{"code":"warm","valueBoolean":true}]},
	   {"code":"green","display":"Green","designation":[{"language":"fr","value":"Vert"}]},
	   {"code":"blue","display":"Blue","concept":[{"code":"navy","display":"Navy blue"}]}]}`,
		`{"resourceType":"ValueSet","id":"` + id + `","url":"` + c.valueSet + `","status":"active",
	  "compose":{"include":[{"system":"` + c.system + `","concept":[{"code":"red"},{"code":"blue"},{"code":"navy"}]}]}}`,
		`{"resourceType":"ConceptMap","id":"` + id + `","url":"` + c.conceptMap + `","status":"active",
	  "group":[{"source":"` + c.system + `","target":"` + c.target + `","element":[
	   {"code":"red","target":[{"code":"ff0000","display":"pure red","equivalence":"equivalent"},
	     {"code":"cc0000","equivalence":"wider"}]},
	   {"code":"navy","target":[{"code":"000080","equivalence":"narrower"}]},
	   {"code":"green","target":[{"equivalence":"unmatched"}]}]}]}`}
	cs, err := fhir.Decode[models.CodeSystem]([]byte(docs[0]))
	require.NoError(t, err)
	put(t, conn, cs)
	vs, err := fhir.Decode[models.ValueSet]([]byte(docs[1]))
	require.NoError(t, err)
	put(t, conn, vs)
	cm, err := fhir.Decode[models.ConceptMap]([]byte(docs[2]))
	require.NoError(t, err)
	put(t, conn, cm)
	return c
}

func coding(system, code string) models.Coding { return models.Coding{System: &system, Code: &code} }

func TestExpand(t *testing.T) {
	conn, rec, base := serverConn(t)
	c := putColors(t, conn)
	codes := func(vs *models.ValueSet) []string {
		var out []string
		for _, x := range vs.Expansion.Contains {
			assert.Equal(t, c.system, *x.System)
			out = append(out, *x.Code+"="+*x.Display)
		}
		return out
	}
	tests := []struct {
		name   string
		params url.Values
		want   []string
		total  int
	}{
		{"all", nil, []string{"red=Red", "blue=Blue", "navy=Navy blue"}, 3},
		{"filter", url.Values{"filter": {"BLU"}}, []string{"blue=Blue", "navy=Navy blue"}, 2},
		{"page", url.Values{"offset": {"1"}, "count": {"1"}}, []string{"blue=Blue"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := conn.Expand(ctx(t), c.valueSet, tt.params)
			require.NoError(t, err)
			require.NotNil(t, vs.Expansion)
			assert.Equal(t, tt.want, codes(vs))
			assert.Equal(t, tt.total, *vs.Expansion.Total)
		})
	}
	assert.Equal(t, "GET ValueSet/$expand", rec.requests(base)[len(rec.requests(base))-1])

	_, err := conn.Expand(ctx(t), c.valueSet+"-unknown", nil)
	assert.ErrorIs(t, err, rest.ErrNotFound)
	_, err = conn.Expand(ctx(t), "", nil)
	assert.ErrorIs(t, err, rest.ErrBadPath)
}

func TestLookup(t *testing.T) {
	conn, rec, base := serverConn(t)
	c := putColors(t, conn)
	got, err := conn.Lookup(ctx(t), coding(c.system, "red"))
	require.NoError(t, err)
	assert.Equal(t, "red", got.Code)
	assert.Equal(t, "Red", *got.Display)
	require.Len(t, got.Designation, 1)
	assert.Equal(t, "fr", *got.Designation[0].Language)
	assert.Equal(t, "Rouge", got.Designation[0].Value)
	props := map[string]models.CodeSystemConceptProperty{}
	for _, p := range got.Property {
		props[p.Code] = p
	}
	assert.Equal(t, "#f00", props["hex"].ValueString)
	assert.True(t, props["warm"].ValueBoolean)

	nested, err := conn.Lookup(ctx(t), coding(c.system, "navy"))
	require.NoError(t, err)
	assert.Equal(t, "Navy blue", *nested.Display)

	_, err = conn.Lookup(ctx(t), coding(c.system, "purple"))
	assert.ErrorIs(t, err, rest.ErrNotFound)
	n := len(rec.requests(base))
	_, err = conn.Lookup(ctx(t), models.Coding{Code: ptr("red")})
	assert.ErrorIs(t, err, rest.ErrBadPath)
	assert.ErrorContains(t, err, "ehr: lookup: the coding needs a system and a code")
	assert.Len(t, rec.requests(base), n, "nothing is sent")
}

func TestValidateCode(t *testing.T) {
	conn, _, _ := serverConn(t)
	c := putColors(t, conn)
	withDisplay := func(cd models.Coding, d string) models.Coding { cd.Display = &d; return cd }
	tests := []struct {
		name     string
		valueSet string
		code     models.Coding
		ok       bool
		message  string
	}{
		{"in the value set", c.valueSet, coding(c.system, "navy"), true, ""},
		{"not in the value set", c.valueSet, coding(c.system, "green"), false, "green"},
		{"wrong display", c.valueSet, withDisplay(coding(c.system, "red"), "Rot"), false, "Rot"},
		{"right display", c.valueSet, withDisplay(coding(c.system, "red"), "Red"), true, ""},
		{"in the code system", "", coding(c.system, "green"), true, ""},
		{"not in the code system", "", coding(c.system, "purple"), false, "purple"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, msg, err := conn.ValidateCode(ctx(t), tt.valueSet, tt.code)
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			if tt.message == "" {
				assert.Empty(t, msg)
			} else {
				assert.Contains(t, msg, tt.message)
			}
		})
	}
	_, _, err := conn.ValidateCode(ctx(t), c.valueSet+"-unknown", coding(c.system, "red"))
	assert.ErrorIs(t, err, rest.ErrNotFound)
}

func TestTranslate(t *testing.T) {
	conn, _, _ := serverConn(t)
	c := putColors(t, conn)
	type match struct{ system, code, equivalence string }
	flat := func(groups []models.ConceptMapGroup) []match {
		var out []match
		for _, g := range groups {
			require.Len(t, g.Element, 1)
			assert.Equal(t, c.system, *g.Source)
			for _, tg := range g.Element[0].Target {
				m := match{system: deref(g.Target), equivalence: tg.Equivalence.Code()}
				if tg.Code != nil {
					m.code = *tg.Code
				}
				out = append(out, m)
			}
		}
		return out
	}
	tests := []struct {
		name   string
		code   string
		target string
		want   []match
	}{
		{"two targets", "red", "", []match{{c.target, "ff0000", "equivalent"}, {c.target, "cc0000", "wider"}}},
		{"target system", "navy", c.target, []match{{c.target, "000080", "narrower"}}},
		{"unmatched", "green", "", []match{{"", "", "unmatched"}}},
		{"other target system", "red", "http://example.org/none", nil},
		{"no mapping", "blue", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, err := conn.Translate(ctx(t), c.conceptMap, coding(c.system, tt.code), tt.target)
			require.NoError(t, err)
			assert.Equal(t, tt.want, flat(groups))
		})
	}
	_, err := conn.Translate(ctx(t), c.conceptMap+"-unknown", coding(c.system, "red"), "")
	assert.ErrorIs(t, err, rest.ErrNotFound)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// What goes on the wire: the inputs as the operations name them, and the
// Parameters read back, from a server that is not fhirtest.
func TestTerminologyWire(t *testing.T) {
	answers := map[string]string{
		"/CodeSystem/$lookup": `{"resourceType":"Parameters","parameter":[{"name":"name","valueString":"LOINC"},
			{"name":"display","valueString":"Heart rate"},
			{"name":"property","part":[{"name":"code","valueCode":"COMPONENT"},{"name":"value","valueCoding":{"code":"LP415671-9"}}]}]}`,
		"/ValueSet/$validate-code": `{"resourceType":"Parameters","parameter":[{"name":"result","valueBoolean":false},
			{"name":"message","valueString":"not in the set"}]}`,
		"/CodeSystem/$validate-code": `{"resourceType":"Parameters","parameter":[{"name":"message","valueString":"no result"}]}`,
		"/ConceptMap/$translate": `{"resourceType":"Parameters","parameter":[{"name":"result","valueBoolean":true},
			{"name":"match","part":[{"name":"concept","valueCoding":{"system":"s2","code":"c2"}}]},
			{"name":"match","part":[{"name":"equivalence","valueCode":"sideways"}]}]}`,
		"/ValueSet/$expand": `{"resourceType":"ValueSet","status":"active","expansion":{"timestamp":"2024-01-01T00:00:00Z","contains":[]}}`,
	}
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		queries = append(queries, r.URL.Path+"?"+r.URL.Query().Encode())
		_, _ = io.WriteString(w, answers[r.URL.Path])
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	loinc := models.Coding{System: ptr("http://loinc.org"), Code: ptr("8867-4"), Version: ptr("2.77"), Display: ptr("Heart rate")}

	concept, err := conn.Lookup(ctx(t), loinc)
	require.NoError(t, err)
	assert.Equal(t, "LP415671-9", *concept.Property[0].ValueCoding.Code)

	ok, msg, err := conn.ValidateCode(ctx(t), "http://example.org/vs|3", loinc)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, "not in the set", msg)
	_, _, err = conn.ValidateCode(ctx(t), "", loinc)
	assert.ErrorContains(t, err, "ehr: $validate-code returned no result")

	_, err = conn.Translate(ctx(t), "http://example.org/cm|1", loinc, "s2")
	assert.ErrorContains(t, err, "ehr: $translate:")
	assert.ErrorContains(t, err, "sideways")

	_, err = conn.Expand(ctx(t), "http://example.org/vs|3", url.Values{"filter": {"a,b|c"}, "url": {"ignored"}})
	require.NoError(t, err)

	assert.Equal(t, []string{
		"/CodeSystem/$lookup?code=8867-4&system=http%3A%2F%2Floinc.org&version=2.77",
		"/ValueSet/$validate-code?code=8867-4&display=Heart+rate&system=http%3A%2F%2Floinc.org&systemVersion=2.77&url=http%3A%2F%2Fexample.org%2Fvs&valueSetVersion=3",
		"/CodeSystem/$validate-code?code=8867-4&display=Heart+rate&url=http%3A%2F%2Floinc.org&version=2.77",
		"/ConceptMap/$translate?code=8867-4&conceptMapVersion=1&system=http%3A%2F%2Floinc.org&targetsystem=s2&url=http%3A%2F%2Fexample.org%2Fcm&version=2.77",
		"/ValueSet/$expand?filter=a%2Cb%7Cc&url=http%3A%2F%2Fexample.org%2Fvs&valueSetVersion=3",
	}, queries, "values are sent as they are: no search escaping")

	cancelled, cancel := context.WithCancel(ctx(t))
	cancel()
	_, err = conn.Lookup(cancelled, loinc)
	assert.ErrorIs(t, err, context.Canceled)
}

// The values of a terminology call stay out of its errors, as search
// values do.
func TestTerminologyErrorsHoldNoCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"no code %s"}]}`,
			r.URL.Query().Get("code"))
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	_, err = conn.Lookup(ctx(t), coding("http://example.org/mrn", "MRN-4471-secret"))
	require.ErrorIs(t, err, rest.ErrNotFound)
	assert.NotContains(t, err.Error(), "MRN-4471-secret")
	b, _ := json.Marshal(err)
	assert.False(t, strings.Contains(string(b), "MRN-4471-secret"))
}

// A terminology operation answered 200 with an OperationOutcome (a code
// system the server does not know, said the wrong way) fails with the
// connection's name and the outcome's issues, scrubbed of the code sent.
func TestTerminologyAnsweredWithAnOutcome(t *testing.T) {
	conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported",
			"diagnostics":"unknown code system urn:sys for code C-4711"}]}`)
	})
	coding := models.Coding{System: ptr("urn:sys"), Code: ptr("C-4711")}
	calls := map[string]func() error{
		"$lookup":        func() error { _, err := conn.Lookup(ctx(t), coding); return err },
		"$validate-code": func() error { _, _, err := conn.ValidateCode(ctx(t), "", coding); return err },
		"$translate":     func() error { _, err := conn.Translate(ctx(t), "", coding, ""); return err },
		"$expand":        func() error { _, err := conn.Expand(ctx(t), "urn:vs", nil); return err },
	}
	for op, call := range calls {
		err := call()
		assert.ErrorContains(t, err, "fhir: ehr: "+op+": the server answered an OperationOutcome", op)
		assert.ErrorContains(t, err, "error not-supported: unknown code system", op)
		if op != "$expand" { // the coding was sent
			assert.ErrorContains(t, err, "unknown code system [redacted] for code [redacted]", op)
		}
		var fe *fhir.Error
		assert.ErrorAs(t, err, &fe, op)
	}
}
