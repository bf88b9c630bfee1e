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
	for _, v := range vs {
		if v != "" {
			s = replaceTokens(s, v)
		}
	}
	return s
}

func replaceTokens(s, old string) string {
	hay, needle := strings.ToLower(s), strings.ToLower(old)
	if len(hay) != len(s) || len(needle) != len(old) {
		hay, needle = s, old // case folding changed the lengths: match exactly
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
			from = end
			i = end
			continue
		}
		i = j + 1
	}
	if from == 0 {
		return s
	}
	b.WriteString(s[from:])
	return b.String()
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
