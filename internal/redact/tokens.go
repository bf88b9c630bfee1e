package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// EchoForms returns the forms in which a server may echo v, as [Values]
// matches them: as it is, URL-escaped (both hex cases, + or %20 for a
// space), path-escaped, JSON-escaped in the usual dialects and
// HTML-escaped.
func EchoForms(v string) []string {
	forms := echoForms(v)
	q := forms[1]
	if strings.Contains(q, "+") {
		forms = append(forms, strings.ReplaceAll(q, "+", "%20"))
	}
	return forms
}

// Tokens replaces with Mark every occurrence in s of each of the values
// that stands as a whole token, without regard to case. A match is a
// whole token when the characters around it do not continue it: a letter
// continues a letter, a digit a digit. So "4" is never taken out of
// "400" nor "male" out of "female", while "12345" is taken out of
// "MRN12345". Longer values go first. Use it for values that are data,
// not secrets: a secret is blanked wherever it appears ([Values]).
func Tokens(s string, values ...string) string {
	if s == "" || len(values) == 0 {
		return s
	}
	vs := append([]string(nil), values...)
	sortLongestFirst(vs)
	// The text is lowered once and searched for all values at once; the
	// matches are marked, then replaced together. (Replacing value by
	// value copied and lowered the text again for each, and searched it
	// once per value: minutes for the thousands of ids of a large search
	// against the MiB of an error body.)
	hay := fold(s)
	needles := make([]string, 0, len(vs))
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			needles = append(needles, v)
		}
	}
	vs = needles
	needles = make([]string, len(vs))
	for k, v := range vs {
		needles[k] = fold(v)
	}
	var marks []byte                          // per byte of s: 0, matchStart or matchRest
	mark := func(v string, from, j int) int { // from: the same value's matches do not overlap
		end := j + len(v)
		// free, which reads the whole match, goes last: a long value found
		// at every byte of a run of letters is at no edge there
		if j < from || !whole(s, j) || !whole(s, end) || !atEdge(s, marks, j, v, true) || !atEdge(s, marks, end, v, false) || !free(marks, j, end) {
			return from
		}
		if marks == nil {
			marks = make([]byte, len(s))
		}
		marks[j] = matchStart
		for i := j + 1; i < end; i++ {
			marks[i] = matchRest
		}
		return end
	}
	// A few values are searched for one by one. Many are searched for
	// at once, and their occurrences held while they are few; values
	// that occur many times over, nested in each other ("a", "a a",
	// "a a a" in a MiB of "a a a"), would hold one position per value and
	// byte: these are searched for value by value too.
	occ, ok := [][]int(nil), false
	if len(needles) > 8 {
		occ, ok = occurrences(hay, needles, len(hay)+1024)
	}
	for k, v := range vs {
		from := 0
		if ok {
			for _, j := range occ[k] {
				from = mark(v, from, j)
			}
		} else {
			each(hay, needles[k], func(j int) { from = mark(v, from, j) })
		}
	}
	if marks == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	kept := 0 // where the text not yet written starts
	for i := 0; i < len(s); i++ {
		if marks[i] == matchStart {
			b.WriteString(s[kept:i])
			b.WriteString(Mark)
			for i+1 < len(s) && marks[i+1] == matchRest {
				i++
			}
			kept = i + 1
		}
	}
	b.WriteString(s[kept:])
	return b.String()
}

// fold is s with its case folded, byte for byte: each character is the
// least of those it is in another case that are as long in UTF-8 (ASCII
// in lower case; "Σ", "σ" and the final "ς" are one, "µ" and "μ" too). A
// character that is in no other case as long ("İ", the Kelvin sign)
// stays as it is, so that positions in fold(s) are positions in s and the
// rest of s is still matched without regard to case.
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return foldSlow(s)
		}
	}
	return s
}

func foldSlow(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf { // ASCII, most of any text: no decoding
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[i]) // invalid UTF-8
		} else {
			b.WriteRune(foldRune(r, n))
		}
		i += n
	}
	return b.String()
}

// foldRune is the least character that is r in another case (r
// included) and n bytes long in UTF-8, as r is.
func foldRune(r rune, n int) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < least && utf8.RuneLen(f) == n {
			least = f
		}
	}
	return least
}

// whole reports whether i is where a character of s starts (or its end):
// a value whose bytes are not UTF-8 ("%83" in a query) is not matched
// against the middle of a character, whose bytes fold(s) may have
// changed ("Σ" is "σ", CF 83, in fold(s)).
func whole(s string, i int) bool {
	if i == 0 || i >= len(s) || utf8.RuneStart(s[i]) {
		return true
	}
	q := i - 1
	for q > 0 && i-q < utf8.UTFMax && !utf8.RuneStart(s[q]) {
		q--
	}
	_, n := utf8.DecodeRuneInString(s[q:])
	return q+n <= i
}

const (
	matchStart = 1 + iota
	matchRest
)

// free reports whether no byte of s[from:to] is already matched.
func free(marks []byte, from, to int) bool {
	if marks == nil {
		return true
	}
	for _, m := range marks[from:to] {
		if m != 0 {
			return false
		}
	}
	return true
}

// atEdge reports whether a match of v starting (start) or ending at i in
// s stands at a token edge there: the text's edge, a match already made
// (its Mark is no letter or digit), or a character that does not
// continue v.
func atEdge(s string, marks []byte, i int, v string, start bool) bool {
	if start {
		if i == 0 || (marks != nil && marks[i-1] != 0) {
			return true
		}
		return edge(s[:i], v, true)
	}
	if i == len(s) || (marks != nil && marks[i] != 0) {
		return true
	}
	return edge(s[i:], v, false)
}

// edge reports whether the text beside a match of v (before it when
// start, after it otherwise) ends the token.
func edge(beside, v string, start bool) bool {
	var inner, outer rune
	if start {
		inner, _ = utf8.DecodeRuneInString(v)
		outer, _ = utf8.DecodeLastRuneInString(beside)
	} else {
		inner, _ = utf8.DecodeLastRuneInString(v)
		outer, _ = utf8.DecodeRuneInString(beside)
	}
	if beside == "" {
		return true
	}
	return class(inner) == 0 || class(inner) != class(outer)
}

// class is 1 for a letter, 2 for a digit, 0 for anything else.
func class(r rune) int {
	switch {
	case unicode.IsLetter(r):
		return 1
	case unicode.IsDigit(r):
		return 2
	}
	return 0
}
