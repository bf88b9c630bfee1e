package fhirjson

import "testing"

func BenchmarkSkip(b *testing.B) {
	data := searchset(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if skipValue(data, 0, 0, nil) < 0 {
			b.Fatal("bad")
		}
	}
}
