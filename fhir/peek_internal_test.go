package fhir

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestPeekType(t *testing.T) {
	tests := []struct {
		name, json, want string
		ok               bool
	}{
		{"first", `{"resourceType":"Patient","id":"1"}`, "Patient", true},
		{"after nested", ` { "id" : "1", "text": {"div":"<p>\"}{</p>"}, "name":[{"given":["a,b"]}], "n": 1.5, "b": true,
		  "contained": [{"resourceType":"Organization"}], "resourceType" : "Patient" }`, "Patient", true},
		{"missing", `{"id":"1"}`, "", false},
		{"not object", `["resourceType"]`, "", false},
		{"truncated", `{"id":"1`, "", false},
		{"escaped", `{"resourceType":"Pat\u0069ent"}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := peekType([]byte(tt.json))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	rt, err := ResourceType([]byte(`{"resourceType":"Pat\u0069ent"}`))
	assert.NoError(t, err)
	assert.Equal(t, "Patient", rt, "escapes fall back to encoding/json")
}

func FuzzPeekType(f *testing.F) {
	f.Add(`{"resourceType":"Patient"}`)
	f.Add(`{"a":[{"b":"}"}],"resourceType":"X"}`)
	f.Add(`{"resourceType":"A","resourceType":"B"}`)
	f.Add(`{"resourceType":"A","ResourceType":"B"}`)
	f.Fuzz(func(t *testing.T, s string) {
		rt, ok := peekType([]byte(s))
		if !ok {
			return
		}
		want, err := ResourceType([]byte(s))
		if err == nil && want != rt {
			t.Fatalf("peek %q, encoding/json %q", rt, want)
		}
	})
}

func TestExcerptKeepsRunesWhole(t *testing.T) {
	for n := 1; n < 12; n++ {
		got := excerpt("aéé€€😀😀é", n)
		assert.True(t, utf8.ValidString(got), "n=%d: %q", n, got)
		assert.LessOrEqual(t, len(strings.TrimSuffix(got, "…")), n)
	}
	assert.Equal(t, "abc", excerpt("abc", 3))
}
