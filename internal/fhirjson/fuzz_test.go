package fhirjson

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/internal/fhirgen"
)

// FuzzDecodeAsEncodingJSON holds the fast path to encoding/json's value
// and error on any input, for the models most traffic decodes into.
func FuzzDecodeAsEncodingJSON(f *testing.F) {
	files, _ := filepath.Glob("../../fhir/testdata/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{`{"gender":"male","name":[{"given":["a\u00e9"]}]}`, `{"entry":[{"resource":{}}]}`,
		`{"valueQuantity":{"value":1.5e3,"comparator":"<"}}`, `{"id":"a","ID":"b"}`} {
		f.Add([]byte(s))
	}
	f.Add(fhirgen.Searchset(4, 8<<10)) // a small mixed searchset, as the benchmark decodes
	types := []reflect.Type{reflect.TypeFor[models.Patient](), reflect.TypeFor[models.Observation](), reflect.TypeFor[models.Bundle]()}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range types {
			same(t, typ, data, Options{})
		}
	})
}

// FuzzTypeAsEncodingJSON holds the resourceType scanners to encoding/json:
// whatever FirstString or TopString reads, encoding/json reads too.
func FuzzTypeAsEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"resourceType":"Patient"}`, `{"a":[{"b":"}"}],"resourceType":"X"}`,
		`{"resourceType":"A","resourceType":"B"}`, `{"resourceType":"A","ResourceType":"B"}`, `{"resourceType":"P\u0061"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var probe struct {
			ResourceType string `json:"resourceType"`
		}
		err := json.Unmarshal(data, &probe)
		if got, ok := TopString(data, "resourceType"); ok && (err != nil || got != probe.ResourceType) {
			t.Fatalf("TopString %q, encoding/json %q (%v)", got, probe.ResourceType, err)
		}
		if got, ok := FirstString(data, "resourceType"); ok && err == nil && got != probe.ResourceType && !repeated(data) {
			t.Fatalf("FirstString %q, encoding/json %q", got, probe.ResourceType)
		}
	})
}

// repeated reports whether data names resourceType more than once (in any
// case), when encoding/json takes the last and FirstString the first.
func repeated(data []byte) bool {
	return bytes.Count(bytes.ToLower(data), []byte(`resourcetype"`)) > 1 || bytes.Contains(data, []byte(`\`))
}
