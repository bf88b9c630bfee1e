package fhir_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// searchset builds a searchset Bundle of n copies of the example Patient.
func searchset(b *testing.B, n int) []byte {
	b.Helper()
	var pat map[string]any
	require.NoError(b, json.Unmarshal(fixture(b, "patient-example.json"), &pat))
	entries := make([]any, n)
	for i := range entries {
		pat["id"] = fmt.Sprintf("p%d", i)
		res, err := json.Marshal(pat)
		require.NoError(b, err)
		entries[i] = map[string]any{"fullUrl": "https://ehr.example.com/fhir/Patient/" + fmt.Sprint(i),
			"resource": json.RawMessage(res), "search": map[string]any{"mode": "match"}}
	}
	out, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": n, "entry": entries})
	require.NoError(b, err)
	return out
}

// BenchmarkDecodeSearchset decodes a 100-entry searchset into typed models,
// beside the peers: encoding/json into the same models, and the same bytes
// into map[string]any.
func BenchmarkDecodeSearchset(b *testing.B) {
	data := searchset(b, 100)
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			bundle, err := fhir.Decode[models.Bundle](data)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range bundle.Entry {
				if _, err := fhir.Decode[models.Patient](e.Resource); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("dispatch", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			bundle, err := fhir.Decode[models.Bundle](data)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range bundle.Entry {
				if _, err := fhir.DecodeResource(e.Resource); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("peer=encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var bundle models.Bundle
			if err := json.Unmarshal(data, &bundle); err != nil {
				b.Fatal(err)
			}
			for _, e := range bundle.Entry {
				var p models.Patient
				if err := json.Unmarshal(e.Resource, &p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("peer=map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStreamPages streams 10 pages of 10 Patients through the
// iterator. heap-growth-B is the live heap (after a GC) at the last page
// boundary minus that at the first: about zero when pages are released,
// nine pages for the peer that keeps every page.
func BenchmarkStreamPages(b *testing.B) {
	srv := fhirtest.NewServer(fhirtest.WithPageSize(10))
	b.Cleanup(srv.Close)
	for i := range 100 {
		p := examplePatient(b)
		p.Id = ptr(fmt.Sprintf("p%03d", i))
		_, err := srv.Seed(p)
		require.NoError(b, err)
	}
	conn := srv.Conn("ehr")

	run := func(b *testing.B, keep bool) {
		b.ReportAllocs()
		// pass streams all pages; with measure it returns the live-heap
		// growth between the first and the last page boundary.
		pass := func(measure bool) (pages int, growth int64) {
			var kept []*models.Bundle
			var ms runtime.MemStats
			var first uint64
			for bundle, err := range conn.Pages(b.Context(), "Patient", nil) {
				if err != nil {
					b.Fatal(err)
				}
				pages++
				if keep {
					kept = append(kept, bundle)
				}
				if measure {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					if pages == 1 {
						first = ms.HeapAlloc
					}
					growth = int64(ms.HeapAlloc) - int64(first)
				}
			}
			runtime.KeepAlive(kept)
			return pages, growth
		}
		for b.Loop() {
			if pages, _ := pass(false); pages != 10 {
				b.Fatalf("%d pages", pages)
			}
		}
		b.StopTimer()
		_, growth := pass(true)
		b.ReportMetric(float64(max(growth, 0)), "heap-growth-B")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10, "ns/page")
	}
	b.Run("stream", func(b *testing.B) { run(b, false) })
	b.Run("peer=keep-all", func(b *testing.B) { run(b, true) })
}
