package fhirjson

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// fastOnly decodes with the fast path alone and fails if it fell back.
func fastOnly(t testing.TB, typ reflect.Type, data []byte) reflect.Value {
	t.Helper()
	p := planFor(typ)
	if !p.ok {
		t.Fatalf("%s: no plan", typ)
	}
	v := reflect.New(typ)
	d := &decoder{data: data}
	if err := d.top(p, unsafe.Pointer(v.Pointer())); err != nil {
		t.Fatalf("%s: fast path: %v", typ, err)
	}
	return v
}

// TestFastPathTakesRealResources proves the fixtures do not fall back: the
// differential tests would pass as well if everything went to encoding/json.
func TestFastPathTakesRealResources(t *testing.T) {
	for file, typ := range map[string]reflect.Type{
		"patient-example.json":     reflect.TypeFor[models.Patient](),
		"observation-example.json": reflect.TypeFor[models.Observation](),
		"bundle-searchset.json":    reflect.TypeFor[models.Bundle](),
	} {
		data, err := os.ReadFile("../../fhir/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		got := fastOnly(t, typ, data)
		want := reflect.New(typ)
		if err := json.Unmarshal(data, want.Interface()); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Fatalf("%s differs", file)
		}
	}
}

func TestEveryModelHasAPlan(t *testing.T) {
	for _, typ := range modelTypes {
		if !planFor(typ).ok {
			t.Errorf("%s decodes with encoding/json only", typ.Name())
		}
	}
}

func TestUnknownCodesLenient(t *testing.T) {
	var got []string
	o := Options{UnknownCode: func(path, code string) { got = append(got, path+"="+code) }}
	var p models.Patient
	data := `{"gender":"robot","name":[{"use":"official"},{"use":"nickname-ish","family":"X"}],"link":[{"type":"twin","other":{"reference":"Patient/2"}}]}`
	if err := UnmarshalOptions([]byte(data), &p, o); err != nil {
		t.Fatal(err)
	}
	if p.Gender != nil || p.Name[1].Use != nil || *p.Name[0].Use != models.NameUseOfficial || *p.Name[1].Family != "X" {
		t.Fatalf("optional codes: %+v", p)
	}
	if p.Link[0].Type != -1 || p.Link[0].Type.Code() != "<unknown>" || *p.Link[0].Other.Reference != "Patient/2" {
		t.Fatalf("a required unknown code must not read as a valid one: %v", p.Link[0].Type)
	}
	want := []string{"gender=robot", "name[1].use=nickname-ish", "link[0].type=twin"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reported %q, want %q", got, want)
	}
	var strict models.Patient
	if err := Unmarshal([]byte(data), &strict); err == nil {
		t.Fatal("strict decoding accepted an unknown code")
	}
}

func TestMaxArray(t *testing.T) {
	big := `{"entry":[` + strings.Repeat(`{},`, 10) + `{}]}`
	var b models.Bundle
	if err := UnmarshalOptions([]byte(big), &b, Options{MaxArray: 10}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("11 entries with MaxArray 10: %v", err)
	}
	if err := UnmarshalOptions([]byte(big), &models.Bundle{}, Options{MaxArray: 11}); err != nil {
		t.Fatal(err)
	}
	// A nested array is bounded too, and so is an input that falls back.
	nested := `{"entry":[{"resource":[` + strings.Repeat(`1,`, 20) + `1]}], "id":"a", "id":"b"}`
	if err := UnmarshalOptions([]byte(nested), &models.Bundle{}, Options{MaxArray: 10}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("nested raw array: %v", err)
	}
	if err := UnmarshalOptions([]byte(`{"entry":[`), &models.Bundle{}, Options{MaxArray: 10}); err == nil || errors.Is(err, ErrTooLong) {
		t.Fatalf("a syntax error is not too long: %v", err)
	}
}

func TestNestingLimitAsEncodingJSON(t *testing.T) {
	for _, n := range []int{9997, 9998, 9999, 10000, 10001} {
		for _, doc := range []string{
			`{"foo":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`,
			`{"entry":[{"resource":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}]}`,
			`{"extension":` + strings.Repeat(`[{"extension":`, n/2) + `[]` + strings.Repeat(`}]`, n/2) + `}`,
		} {
			for _, typ := range []reflect.Type{reflect.TypeFor[models.Patient](), reflect.TypeFor[models.Bundle]()} {
				same(t, typ, []byte(doc), Options{})
			}
		}
	}
}

func TestNullsInPrimitiveArraysStayFast(t *testing.T) {
	data := []byte(`{"resourceType":"Patient","gender":"robot","name":[{"given":[null,"James"],"_given":[{"id":"g"},null]}]}`)
	var got []string
	var p models.Patient
	err := UnmarshalOptions(data, &p, Options{UnknownCode: func(path, code string) { got = append(got, path) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || p.Name[0].Given[1] != "James" || p.Name[0].Given[0] != "" {
		t.Fatalf("got %v %+v", got, p.Name)
	}
	same(t, reflect.TypeFor[models.Patient](), []byte(`{"name":[{"given":[null,"J"]}],"active":null,"multipleBirthInteger":null,"text":null}`), Options{})
	fastOnly(t, reflect.TypeFor[models.Patient](), []byte(`{"name":[{"given":[null,"J"]}]}`))
}

func TestMaxAllocBoundsBothPaths(t *testing.T) {
	empties := strings.Repeat(`{},`, 20000) + `{}`
	for name, doc := range map[string]string{
		"fast":                     `{"extension":[` + empties + `]}`,
		"duplicate key forces std": `{"id":"a","id":"b","extension":[` + empties + `]}`,
		"bad element before them":  `{"extension":["x",` + empties + `]}`,
		"case-folded name":         `{"EXTENSION":[` + empties + `]}`,
		"escaped name":             `{"ext\u0065nsion":[` + empties + `]}`,
		"nested in a bad member":   `{"contact":[{"gender":"robot","extension":[` + empties + `]}]}`,
	} {
		var p models.Patient
		err := UnmarshalOptions([]byte(doc), &p, Options{MaxAlloc: 1 << 20})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", name, err)
		}
		if err := UnmarshalOptions([]byte(doc), &p, Options{MaxAlloc: 64 << 20}); err != nil && errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: refused under a budget large enough: %v", name, err)
		}
	}
}

func TestFirstString(t *testing.T) {
	for doc, want := range map[string]string{
		`{"resourceType":"Patient","id":"1"}`: "Patient",
		` { "resourceType" : "Patient" }`:     "Patient",
		`{"id":"1","resourceType":"Patient"}`: "", // not first: TopString's job
		`{"resourceType":"Pat\u0069ent"}`:     "", // escaped: encoding/json's
		`{"resource\u0054ype":"Patient"}`:     "",
		`{"resourcetype":"Patient"}`:          "",
		`{"resourceType":1}`:                  "",
		`["resourceType"]`:                    "",
		`{"resourceType":"Pat`:                "",
		`{"resourceType"`:                     "",
		``:                                    "",
	} {
		if got, ok := FirstString([]byte(doc), "resourceType"); got != want || ok != (want != "") {
			t.Errorf("%s: FirstString %q %v, want %q", doc, got, ok, want)
		}
	}
}

func TestTopStringAsEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{"resourceType":"Patient"}`, `{"a":{"resourceType":"X"},"resourceType":"Patient","b":[1]}`,
		`{"resourceType":"A","resourceType":"B"}`, `{"resourcetype":"Patient"}`, `{"reſourceType":"Patient"}`,
		`{"resourceType":"Pat\u0069ent"}`, `{"resourceType":1}`, `{"x":1}`, `[]`, `{"resourceType":"P"`, `{"resourceType":"Pé"}`,
		` { "id" : "1", "text": {"div":"<p>\"}{</p>"}, "name":[{"given":["a,b"]}], "n": 1.5, "b": true,
		  "contained": [{"resourceType":"Organization"}], "resourceType" : "Patient" }`, `{"id":"1`, `{"resourceType":"A","ResourceType":"B"}`,
	} {
		var probe struct {
			ResourceType string `json:"resourceType"`
		}
		err := json.Unmarshal([]byte(doc), &probe)
		got, ok := TopString([]byte(doc), "resourceType")
		if ok && (err != nil || got != probe.ResourceType) {
			t.Errorf("%s: TopString %q, encoding/json %q (%v)", doc, got, probe.ResourceType, err)
		}
	}
}
