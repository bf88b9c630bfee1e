package fhir

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestExcerptKeepsRunesWhole(t *testing.T) {
	for n := 1; n < 12; n++ {
		got := excerpt("aéé€€😀😀é", n)
		assert.True(t, utf8.ValidString(got), "n=%d: %q", n, got)
		assert.LessOrEqual(t, len(strings.TrimSuffix(got, "…")), n)
	}
	assert.Equal(t, "abc", excerpt("abc", 3))
}
