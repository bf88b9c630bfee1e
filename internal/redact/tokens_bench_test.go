package redact

import (
	"fmt"
	"strings"
	"testing"
)

// Blanking the values of a request (a search's ids, a transaction's
// identifiers) out of an error body, side by side with the value-by-value
// replacement Tokens did before (tokensOneByOne): the cost should follow
// the text, not the text times the values.
func BenchmarkTokens(b *testing.B) {
	text := strings.Repeat("abc def MRN-7 ", 75000) // ~1 MiB, as a large error body
	for _, n := range []int{1, 30, 300} {
		values := make([]string, n)
		for i := range values {
			values[i] = fmt.Sprintf("id%d", i)
		}
		values[n-1] = "MRN-7"
		for _, impl := range []struct {
			name string
			f    func(string, ...string) string
		}{{"one-pass", Tokens}, {"one-by-one", tokensOneByOne}} {
			b.Run(fmt.Sprintf("%s/values=%d", impl.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					if out := impl.f(text, values...); strings.Contains(out, "MRN-7") {
						b.Fatal("not blanked")
					}
				}
			})
		}
	}
}
