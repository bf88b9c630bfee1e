package backends

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var yamlValue = regexp.MustCompile("`[^`]*`|'[^']*'|\"[^\"]*\"")

// scrubYAML removes the quoted values that yaml.v3 puts in its messages
// (`…`, '…' and "…": a value, an anchor name, a key), in case a secret was
// written where something else was expected. One quoted punctuation mark
// is what the parser expected (',' or '}'), kept.
func scrubYAML(msg string) string {
	return strings.TrimPrefix(yamlValue.ReplaceAllStringFunc(msg, func(q string) string {
		if r, _ := utf8.DecodeRuneInString(q[1:]); utf8.RuneCountInString(q) == 3 && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
			return q
		}
		return "value"
	}), "yaml: ")
}

// yamlLine splits yaml.v3's "line N: " off msg.
func yamlLine(msg string) (int, string) {
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return line, after
			}
		}
	}
	return 0, msg
}

// unquotedFlowRef finds, on the lines around line (yaml.v3 may name the
// line where a { } or [ ] starts), a ${VAR} written unquoted after a { or
// [ on its line: a plain value cannot hold a { there. It returns that
// line and the reference; "" when there is none.
func unquotedFlowRef(data []byte, line int) (int, string) {
	lines := strings.Split(string(data), "\n")
	for l := max(line-1, 1); l <= min(line+2, len(lines)); l++ {
		text := lines[l-1]
		i := strings.Index(text, "${")
		end := strings.IndexByte(text[max(i, 0):], '}')
		if i < 0 || end < 0 || !strings.ContainsAny(text[:i], "{[") || strings.ContainsAny(text[:i], "'\"") {
			continue
		}
		name, _, hasDefault := strings.Cut(text[i+2:i+end], ":-")
		switch {
		case !validEnvName(name):
			return l, "${…}"
		case hasDefault: // the default is not echoed
			return l, "${" + name + ":-…}"
		}
		return l, "${" + name + "}"
	}
	return 0, ""
}
