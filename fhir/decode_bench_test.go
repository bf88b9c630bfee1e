package fhir_test

import (
	"bytes"
	"encoding/json"
	"syscall"
	"testing"

	gojson "github.com/goccy/go-json"
	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/internal/fhirgen"
)

// mixedModels makes the model of each resource type fhirgen writes.
var mixedModels = map[string]func() any{
	"Observation":        func() any { return new(models.Observation) },
	"Patient":            func() any { return new(models.Patient) },
	"Encounter":          func() any { return new(models.Encounter) },
	"Condition":          func() any { return new(models.Condition) },
	"MedicationRequest":  func() any { return new(models.MedicationRequest) },
	"Practitioner":       func() any { return new(models.Practitioner) },
	"Organization":       func() any { return new(models.Organization) },
	"Procedure":          func() any { return new(models.Procedure) },
	"AllergyIntolerance": func() any { return new(models.AllergyIntolerance) },
	"DiagnosticReport":   func() any { return new(models.DiagnosticReport) },
}

// peerModel is the model for a resource fhirgen wrote, by a look at its
// first member (free for the peers: the probe is not what is measured).
func peerModel(b *testing.B, res []byte) any {
	rest, ok := bytes.CutPrefix(res, []byte(`{"resourceType":"`))
	rt, _, _ := bytes.Cut(rest, []byte(`"`))
	mk := mixedModels[string(rt)]
	if !ok || mk == nil {
		b.Fatalf("no model for %.40q", res)
	}
	return mk()
}

// cpuTime is the CPU time the process has used, in ns: on a shared
// machine it tells what a decode costs better than the wall clock.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkDecodeMixed decodes a 0.7 MB searchset of mixed resources
// (fhirgen: ten types, narratives, extensions, primitive extensions,
// decimals, escapes, contained resources) into the typed models: the
// Bundle, then each entry's resource into its type. The peers decode into
// the same models.
func BenchmarkDecodeMixed(b *testing.B) {
	data := fhirgen.Searchset(1, 700<<10)
	run := func(pass func(b *testing.B)) func(b *testing.B) {
		return func(b *testing.B) {
			pass(b) // first use: plans, and goccy-go-json's compiled decoders
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			cpu := cpuTime(b)
			for b.Loop() {
				pass(b)
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
		}
	}
	peer := func(un func([]byte, any) error) func(b *testing.B) {
		return func(b *testing.B) {
			var bundle models.Bundle
			if err := un(data, &bundle); err != nil {
				b.Fatal(err)
			}
			for _, e := range bundle.Entry {
				if err := un(e.Resource, peerModel(b, e.Resource)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	tokenwire := func(b *testing.B) {
		bundle, err := fhir.Decode[models.Bundle](data)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range bundle.Entry {
			v, err := fhir.DecodeResource(e.Resource)
			if _, raw := v.(json.RawMessage); err != nil || raw {
				b.Fatal(err, " or no model for ", string(e.Resource[:40]))
			}
		}
	}
	b.Run("tokenwire", run(tokenwire))
	b.Run("encoding/json", run(peer(json.Unmarshal)))
	b.Run("goccy-go-json", run(peer(gojson.Unmarshal)))
	// The three in turn in each iteration, so that a shared machine's load
	// falls on all of them alike: the CPU time of each, and the peers'
	// times over tokenwire's.
	b.Run("interleaved", func(b *testing.B) {
		passes := []func(*testing.B){tokenwire, peer(json.Unmarshal), peer(gojson.Unmarshal)}
		var spent [3]int64
		for _, pass := range passes {
			pass(b)
		}
		for b.Loop() {
			for k, pass := range passes {
				start := cpuTime(b)
				pass(b)
				spent[k] += cpuTime(b) - start
			}
		}
		for k, unit := range []string{"tokenwire-cpu-ns/op", "encoding/json-cpu-ns/op", "goccy-cpu-ns/op"} {
			b.ReportMetric(float64(spent[k])/float64(b.N), unit)
		}
		b.ReportMetric(float64(spent[1])/float64(spent[0]), "encoding/json-x")
		b.ReportMetric(float64(spent[2])/float64(spent[0]), "goccy-x")
	})
}
