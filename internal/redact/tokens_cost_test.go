package redact

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// tokensOneByOne is Tokens as it was: each value replaced in turn, s
// lowered and copied again for each. The one pass must agree with it.
func tokensOneByOne(s string, values ...string) string {
	vs := append([]string(nil), values...)
	sortLongestFirst(vs)
	for _, old := range vs {
		if old == "" {
			continue
		}
		hay, needle := strings.ToLower(s), strings.ToLower(old)
		if len(hay) != len(s) || len(needle) != len(old) {
			hay, needle = s, old
		}
		var b strings.Builder
		from := 0
		for i := 0; i <= len(hay)-len(needle); {
			j := strings.Index(hay[i:], needle)
			if j < 0 {
				break
			}
			j += i
			end := j + len(needle)
			if edge(s[:j], old, true) && edge(s[end:], old, false) {
				b.WriteString(s[from:j])
				b.WriteString(Mark)
				from, i = end, end
				continue
			}
			i = j + 1
		}
		if from != 0 {
			b.WriteString(s[from:])
			s = b.String()
		}
	}
	return s
}

// The one pass marks what replacing value by value did, on texts and
// values drawn from a small alphabet (letters of both cases, digits,
// separators, accented letters) so that matches touch, overlap and nest.
// (Letters whose lower case has another length are TestTokens's.)
func TestTokensAgreesWithOneByOne(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "B", "b", "1", "2", " ", "-", "|", "É", "é"}
	word := func(n int) string {
		var b strings.Builder
		for range r.IntN(n) + 1 {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := range 20000 {
		s := word(40)
		values := make([]string, r.IntN(20)+1) // more than 8: searched for all at once
		for j := range values {
			values[j] = word(4)
		}
		if got, want := Tokens(s, values...), tokensOneByOne(s, values...); got != want {
			t.Fatalf("case %d: Tokens(%q, %q) = %q, one by one %q", i, s, values, got, want)
		}
	}
}

// Blanking thousands of values (the ids of a large search, the
// identifiers of a transaction) out of a MiB of text (an error body)
// costs a few copies of the text, not one per value: it was a copy and a
// lowering of the MiB per value, minutes of CPU for a few thousand.
func TestTokensCostDoesNotGrowWithTheValues(t *testing.T) {
	text := strings.Repeat("abc def MRN-7 ", 75000) // ~1 MiB
	values := make([]string, 300)
	for i := range values {
		values[i] = fmt.Sprintf("id%d", i)
	}
	values = append(values, "MRN-7")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := Tokens(text, values...)
	runtime.ReadMemStats(&after)
	if strings.Contains(out, "MRN-7") || !strings.Contains(out, "abc def "+Mark) {
		t.Fatalf("not blanked: %.60q", out)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16*uint64(len(text)) {
		t.Errorf("Tokens allocated %d bytes for %d values over %d bytes of text", got, len(values), len(text))
	}
}

// Searching for many needles at once finds what searching for each does,
// overlapping occurrences and needles that are parts of others included.
func TestOccurrencesAllAtOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	word := func(n int) string {
		b := make([]byte, r.IntN(n)+1)
		for i := range b {
			b[i] = "aab1-"[r.IntN(5)]
		}
		return string(b)
	}
	for range 5000 {
		hay := word(60)
		needles := make([]string, 1+r.IntN(20))
		for k := range needles {
			needles[k] = word(4)
		}
		want := make([][]int, len(needles))
		for k, n := range needles {
			for i := 0; i+len(n) <= len(hay); i++ {
				if hay[i:i+len(n)] == n {
					want[k] = append(want[k], i)
				}
			}
		}
		got, _ := occurrences(hay, needles, len(hay)*len(needles))
		for k := range needles {
			if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
				t.Fatalf("occurrences of %q in %q = %v, want %v", needles[k], hay, got[k], want[k])
			}
		}
	}
}

// Values nested in each other ("a", "a a", "a a a"…), each found at
// almost every byte of a MiB of "a a a", do not hold one position per
// value and byte: the memory stays that of a few copies of the text
// (it was 1.3 GB for these 64 values, and grew with each value).
func TestTokensMemoryDoesNotGrowWithNestedValues(t *testing.T) {
	text := strings.Repeat("a ", 1<<19)
	var values []string
	for k := 1; k <= 64; k++ {
		values = append(values, strings.TrimSpace(strings.Repeat("a ", k)))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := Tokens(text, values...)
	runtime.ReadMemStats(&after)
	if want := tokensOneByOne(text, values...); out != want {
		t.Fatalf("Tokens = %.60q…, one by one %.60q…", out, want)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64*uint64(len(text)) {
		t.Errorf("Tokens allocated %d bytes for %d values over %d bytes of text", got, len(values), len(text))
	}
}
