package fhirjson

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// searchset is a 100-entry searchset of the example Patient.
func searchset(b *testing.B) []byte {
	raw, err := os.ReadFile("../../fhir/testdata/patient-example.json")
	if err != nil {
		b.Fatal(err)
	}
	var pat map[string]any
	if err := json.Unmarshal(raw, &pat); err != nil {
		b.Fatal(err)
	}
	entries := make([]any, 100)
	for i := range entries {
		pat["id"] = fmt.Sprintf("p%d", i)
		res, _ := json.Marshal(pat)
		entries[i] = map[string]any{"fullUrl": fmt.Sprintf("https://ehr.example.com/fhir/Patient/p%d", i),
			"resource": json.RawMessage(res), "search": map[string]any{"mode": "match"}}
	}
	out, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": 100, "entry": entries})
	return out
}

func BenchmarkSearchset(b *testing.B) {
	data := searchset(b)
	for _, c := range []struct {
		name string
		un   func([]byte, any) error
	}{{"fhirjson", Unmarshal}, {"peer=encoding/json", json.Unmarshal}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var bu models.Bundle
				if err := c.un(data, &bu); err != nil {
					b.Fatal(err)
				}
				for _, e := range bu.Entry {
					var p models.Patient
					if err := c.un(e.Resource, &p); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
