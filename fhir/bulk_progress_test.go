package fhir_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// X-Progress is a server's text shown to people: it reaches
// ExportStatus.Progress on one line, without the characters that reorder
// or hide text (bidi overrides, zero-width marks), and bounded.
func TestExportProgressIsOneLineOfVisibleText(t *testing.T) {
	for name, tc := range map[string]struct{ header, want string }{
		"plain":                {"10% (Patient)", "10% (Patient)"},
		"bidi override":        {"50% done \u202etxt.exe\u202c", "50% done txt.exe"},
		"bidi isolates, marks": {"\u2066a\u2069\u200e\u200f\u061cb", "ab"},
		"zero-width":           {"to\u200btal\u200d\ufeff", "total"},
		"line separator":       {"line one\u2028line two", "line one line two"},
		"paragraph separator":  {"one\u2029two", "one two"},
		"C1 control (NEL)":     {"one\u0085two", "one two"},
		"tabs and runs":        {"  a\t\t b  ", "a b"},
		"invalid UTF-8":        {"50%\xff done", "50%\ufffd done"},
		"long":                 {strings.Repeat("é", 500), strings.Repeat("é", 50) + "…"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := statusScript(t, answer(202, map[string]string{"X-Progress": tc.header}, ""))
			x, err := srv.conn(t, nil).Export(ctx(t))
			require.NoError(t, err)
			st, err := x.Poll(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, tc.want, st.Progress)
			assert.LessOrEqual(t, len(st.Progress), 100+len("…"))
			assert.True(t, utf8.ValidString(st.Progress))
			for _, r := range st.Progress {
				assert.False(t, unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp), "%U in %q", r, st.Progress)
			}
		})
	}
}
