package backends

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong in a configuration file.
type Problem struct {
	Where  string // `security "crm-oauth"`, `rest "crm"`, `fhir "ehr"`, "store" or "config" (the file as a whole, which ConfigError's own prefix names)
	Field  string // e.g. "base_url", "tls.ca_file"; empty for the whole entry
	Reason string // never holds a secret value
	Line   int    // 0 when unknown
}

func (p Problem) text() string {
	var b strings.Builder
	b.WriteString(p.Where)
	if p.Field != "" {
		if p.Where != "" {
			b.WriteString(": ")
		}
		b.WriteString(p.Field)
	}
	if p.Where != "" || p.Field != "" {
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	return b.String()
}

// ConfigError lists every problem found in a configuration file.
type ConfigError struct {
	File     string // empty for Parse
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("backends: config")
	if e.File != "" {
		fmt.Fprintf(&b, " %s", e.File)
	}
	if len(e.Problems) == 1 {
		p := e.Problems[0]
		if p.Where == "config" {
			p.Where = "" // "backends: config: fihr: unknown section", not "config: config:"
		}
		return b.String() + ": " + p.text()
	}
	fmt.Fprintf(&b, ": %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.text())
	}
	return b.String()
}

// problems collects Problems.
type problems []Problem

func (ps *problems) add(where, field string, line int, format string, args ...any) {
	*ps = append(*ps, Problem{Where: where, Field: field, Line: line, Reason: fmt.Sprintf(format, args...)})
}

func (ps problems) err(file string) error {
	if len(ps) == 0 {
		return nil
	}
	// One problem per field: the first (a field whose reference could not
	// be resolved is not also reported as, say, a bad URL).
	type key struct{ where, field string }
	seen := map[key]bool{}
	var out []Problem
	for _, p := range ps {
		k := key{p.Where, p.Field}
		if p.Field != "" && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Where, b.Where), cmp.Compare(a.Field, b.Field), cmp.Compare(a.Line, b.Line))
	})
	out = slices.Compact(out)
	return &ConfigError{File: file, Problems: out}
}
