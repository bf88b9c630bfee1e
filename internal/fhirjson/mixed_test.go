package fhirjson

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/internal/fhirgen"
)

// mixedTypes are the models of the resource types fhirgen writes.
var mixedTypes = map[string]reflect.Type{
	"Observation":        reflect.TypeFor[models.Observation](),
	"Patient":            reflect.TypeFor[models.Patient](),
	"Encounter":          reflect.TypeFor[models.Encounter](),
	"Condition":          reflect.TypeFor[models.Condition](),
	"MedicationRequest":  reflect.TypeFor[models.MedicationRequest](),
	"Practitioner":       reflect.TypeFor[models.Practitioner](),
	"Organization":       reflect.TypeFor[models.Organization](),
	"Procedure":          reflect.TypeFor[models.Procedure](),
	"AllergyIntolerance": reflect.TypeFor[models.AllergyIntolerance](),
	"DiagnosticReport":   reflect.TypeFor[models.DiagnosticReport](),
}

// TestMixedSearchsetsDecodeAsEncodingJSON holds the decoder to
// encoding/json on the benchmark's documents: each searchset and each of
// its resources decode to the same values, on the fast path (no fallback
// to encoding/json), and damaged copies of them fail (or not) alike.
func TestMixedSearchsetsDecodeAsEncodingJSON(t *testing.T) {
	sizes := map[uint64]int{1: 700 << 10, 2: 64 << 10, 3: 64 << 10}
	if testing.Short() {
		sizes = map[uint64]int{2: 64 << 10}
	}
	seen := map[string]int{}
	for seed, size := range sizes {
		data := fhirgen.Searchset(seed, size)
		if !json.Valid(data) || len(data) < size {
			t.Fatalf("seed %d: %d bytes, valid %v", seed, len(data), json.Valid(data))
		}
		if !bytes.Equal(data, fhirgen.Searchset(seed, size)) {
			t.Fatalf("seed %d: not deterministic", seed)
		}
		same(t, reflect.TypeFor[models.Bundle](), data, Options{})
		bundle := fastOnly(t, reflect.TypeFor[models.Bundle](), data).Interface().(*models.Bundle)
		rng := rand.New(rand.NewPCG(seed, 7))
		for _, e := range bundle.Entry {
			rt, _ := FirstString(e.Resource, "resourceType")
			typ := mixedTypes[rt]
			if typ == nil {
				t.Fatalf("no model for %q", rt)
			}
			seen[rt]++
			same(t, typ, e.Resource, Options{})
			fastOnly(t, typ, e.Resource)
			same(t, typ, damage(rng, e.Resource), Options{})
		}
	}
	if len(seen) != len(mixedTypes) {
		t.Fatalf("resource types seen: %v", seen)
	}
}

// damage returns a copy of data with one byte changed, removed or cut
// after, at a random place: most copies are invalid somewhere deep.
func damage(rng *rand.Rand, data []byte) []byte {
	out := bytes.Clone(data)
	k := rng.IntN(len(out))
	switch rng.IntN(4) {
	case 0:
		out[k] = "\"\\{}[],:0a-. \x01\xff"[rng.IntN(15)]
	case 1:
		out = append(out[:k], out[k+1:]...)
	case 2:
		out = out[:k]
	default:
		out = append(out[:k:k], append([]byte(`\u00`), out[k:]...)...)
	}
	return out
}
