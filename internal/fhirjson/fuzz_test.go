package fhirjson

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
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
	types := []reflect.Type{reflect.TypeFor[models.Patient](), reflect.TypeFor[models.Observation](), reflect.TypeFor[models.Bundle]()}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range types {
			same(t, typ, data, Options{})
		}
	})
}
