package fhirjson

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// modelTypes are the types the differential tests decode into.
var modelTypes = []reflect.Type{
	reflect.TypeFor[models.Patient](), reflect.TypeFor[models.Observation](),
	reflect.TypeFor[models.Bundle](), reflect.TypeFor[models.Encounter](),
	reflect.TypeFor[models.Condition](), reflect.TypeFor[models.MedicationRequest](),
	reflect.TypeFor[models.CapabilityStatement](), reflect.TypeFor[models.OperationOutcome](),
	reflect.TypeFor[models.Questionnaire](), reflect.TypeFor[models.QuestionnaireResponse](),
	reflect.TypeFor[models.Practitioner](), reflect.TypeFor[models.DiagnosticReport](),
	reflect.TypeFor[models.Claim](), reflect.TypeFor[models.Parameters](),
	reflect.TypeFor[models.Group](), reflect.TypeFor[models.Task](),
}

// same decodes data both ways into a new t and fails unless both give the
// same value and the same error.
func same(t testing.TB, typ reflect.Type, data []byte, o Options) {
	t.Helper()
	fast, std := reflect.New(typ), reflect.New(typ)
	errFast := UnmarshalOptions(data, fast.Interface(), o)
	errStd := json.Unmarshal(data, std.Interface())
	if fmt.Sprint(errFast) != fmt.Sprint(errStd) {
		t.Fatalf("%s: errors differ:\nfast: %v\nstd:  %v\ninput: %.400q", typ.Name(), errFast, errStd, data)
	}
	if errStd == nil && !reflect.DeepEqual(fast.Interface(), std.Interface()) {
		a, _ := json.Marshal(fast.Interface())
		b, _ := json.Marshal(std.Interface())
		t.Fatalf("%s: values differ:\nfast: %.600s\nstd:  %.600s\ninput: %.400q", typ.Name(), a, b, data)
	}
}

func TestFixturesDecodeAsEncodingJSON(t *testing.T) {
	files, err := filepath.Glob("../../fhir/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range modelTypes {
			same(t, typ, data, Options{})
		}
	}
}

// TestGeneratedDocumentsDecodeAsEncodingJSON decodes thousands of random
// documents shaped like each model (valid and not: escapes, invalid UTF-8,
// duplicate and case-folded names, unknown codes, wrong types, nulls).
func TestGeneratedDocumentsDecodeAsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 400
	if testing.Short() {
		n = 50
	}
	for _, typ := range modelTypes {
		for range n {
			g := &gen{rng: rng}
			g.value(typ, 0)
			same(t, typ, []byte(g.b.String()), Options{})
		}
	}
}

func TestEdgeCasesDecodeAsEncodingJSON(t *testing.T) {
	typ := reflect.TypeFor[models.Patient]()
	for _, s := range []string{
		`{}`, ` { } `, `{"id":"a"} x`, `{"id":"a",}`, `{"id":"a"`, `[]`, `null`, `"x"`, ``,
		`{"id":"\ud83d\ude00 \ud83d x \udc00 \u00e9 \/ \b\f\n\r\t"}`, "{\"id\":\"\xff\xfe ok\"}",
		`{"ID":"a"}`, `{"id":"a","id":"b"}`, `{"name":[{"given":["a"]}],"name":[{"family":"b"}]}`,
		`{"gender":"male"}`, `{"gender":"mal\u0065"}`, `{"gender":"bogus"}`, `{"gender":null}`, `{"gender":1}`,
		`{"active":true,"multipleBirthInteger":-0}`, `{"multipleBirthInteger":1.0}`, `{"multipleBirthInteger":1e2}`,
		`{"multipleBirthInteger":99999999999999999999}`, `{"multipleBirthInteger":"1"}`, `{"active":"true"}`,
		`{"name":null,"meta":null,"link":[]}`, `{"contact":[null]}`, `{"unknown":{"a":[1,2,{"b":null}]}}`,
		`{"link":[{"type":"seealso","other":{"reference":"x"}}]}`, `{"link":[{"type":"nope"}]}`,
		`{"extension":[{"url":"u","valueDecimal":1.50}]}`, `{"extension":[{"url":"u","valueDecimal":"1.5"}]}`,
		`{"extension":[{"url":"u","valueDecimal":01}]}`, "{\"id\":\"a\x01\"}", `{"text":{"div":"<div>\"q\"</div>"}}`,
		`{"Ｉd":"x"}`, `{"gend\u0065r":"male"}`, `{"photo":[{"data":"aGk="}]}`, `{"id":"a"}` + "\n",
	} {
		same(t, typ, []byte(s), Options{})
	}
}

// gen writes random JSON shaped like a Go type.
type gen struct {
	rng *rand.Rand
	b   strings.Builder
}

func (g *gen) p(n int) bool { return g.rng.IntN(1000) < n } // probability n/1000

func (g *gen) value(t reflect.Type, depth int) {
	if g.p(15) {
		g.b.WriteString("null")
		return
	}
	if g.p(5) {
		g.wrong()
		return
	}
	p := planFor(t)
	switch p.kind {
	case kString:
		g.str()
	case kNumber:
		g.number()
	case kBool:
		g.b.WriteString([]string{"true", "false"}[g.rng.IntN(2)])
	case kInt:
		g.b.WriteString(strconv.Itoa(g.rng.IntN(2000) - 1000))
	case kRaw:
		g.raw(depth)
	case kCode:
		g.code(p)
	case kPtr:
		g.value(t.Elem(), depth)
	case kSlice:
		g.array(t.Elem(), depth)
	case kStruct:
		g.object(p, depth)
	}
}

func (g *gen) object(p *plan, depth int) {
	g.b.WriteString("{")
	names := make([]string, 0, len(p.fields))
	for n := range p.fields {
		names = append(names, n)
	}
	k := g.rng.IntN(min(len(names), 8) + 1)
	if depth > 4 {
		k = min(k, 1)
	}
	for j := range k {
		if j > 0 {
			g.b.WriteString(g.space() + ",")
		}
		name := names[g.rng.IntN(len(names))]
		switch {
		case g.p(10):
			name = strings.ToUpper(name[:1]) + name[1:]
		case g.p(10):
			name = "x" + name
		}
		fmt.Fprintf(&g.b, "%s%q%s:%s", g.space(), name, g.space(), g.space())
		if f := p.fields[name]; f != nil {
			g.value(f.plan.typ, depth+1)
		} else {
			g.raw(depth)
		}
	}
	g.b.WriteString(g.space() + "}")
}

func (g *gen) array(elem reflect.Type, depth int) {
	g.b.WriteString("[")
	for j := range g.rng.IntN(4) {
		if j > 0 {
			g.b.WriteString(",")
		}
		g.value(elem, depth+1)
	}
	g.b.WriteString("]")
}

func (g *gen) space() string { return []string{"", "", "", " ", "\n\t"}[g.rng.IntN(5)] }

func (g *gen) str() {
	parts := []string{"a", "Zeta", "é", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\/", "\xff", "日本", "\\\\", " "}
	g.b.WriteByte('"')
	for range g.rng.IntN(5) {
		g.b.WriteString(parts[g.rng.IntN(len(parts))])
	}
	g.b.WriteByte('"')
}

func (g *gen) number() {
	g.b.WriteString([]string{"0", "-1", "1.50", "3e2", "-0.0001", "12345678901234567890", `"2.5"`}[g.rng.IntN(7)])
}

func (g *gen) code(p *plan) {
	codes := make([]string, 0, len(p.code.byCode))
	for c := range p.code.byCode {
		codes = append(codes, c)
	}
	switch {
	case g.p(30):
		g.b.WriteString(`"not-a-code"`)
	case g.p(10) && len(codes) > 0:
		fmt.Fprintf(&g.b, `"%s\u0020"`, codes[0])
	default:
		fmt.Fprintf(&g.b, "%q", codes[g.rng.IntN(len(codes))])
	}
}

func (g *gen) raw(depth int) {
	if depth > 3 {
		g.b.WriteString("1")
		return
	}
	switch g.rng.IntN(4) {
	case 0:
		g.str()
	case 1:
		g.b.WriteString(`{"resourceType":"Patient","id":"p1","x":[true,null,{"y":-2.5e-3}]}`)
	case 2:
		g.b.WriteString(`[1, "two", {}]`)
	default:
		g.number()
	}
}

func (g *gen) wrong() {
	g.b.WriteString([]string{`"s"`, `7`, `{}`, `[]`, `true`, `{"a":`}[g.rng.IntN(6)])
}
