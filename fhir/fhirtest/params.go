package fhirtest

import (
	"strings"
	"time"
)

// kind is a search parameter type.
type kind int

const (
	kindString kind = iota
	kindToken
	kindDate
	kindReference
)

type param struct {
	kind  kind
	paths []string // dotted element paths, arrays flattened
}

// params are the supported search parameters by resource type; "*" holds
// those of every type.
var params = map[string]map[string]param{
	"*": {
		"identifier": {kindToken, []string{"identifier"}},
		"status":     {kindToken, []string{"status"}},
	},
	"Patient": {
		"family":    {kindString, []string{"name.family"}},
		"given":     {kindString, []string{"name.given"}},
		"name":      {kindString, []string{"name.family", "name.given", "name.text", "name.prefix", "name.suffix"}},
		"birthdate": {kindDate, []string{"birthDate"}},
		"gender":    {kindToken, []string{"gender"}},
		"active":    {kindToken, []string{"active"}},
	},
	"Observation": {
		"subject":  {kindReference, []string{"subject"}},
		"patient":  {kindReference, []string{"subject"}},
		"code":     {kindToken, []string{"code"}},
		"category": {kindToken, []string{"category"}},
		"date":     {kindDate, []string{"effectiveDateTime", "effectiveInstant", "effectivePeriod.start", "issued"}},
	},
	"Encounter": {
		"subject": {kindReference, []string{"subject"}},
		"patient": {kindReference, []string{"subject"}},
		"date":    {kindDate, []string{"period.start"}},
	},
	"Condition": {
		"subject": {kindReference, []string{"subject"}},
		"patient": {kindReference, []string{"subject"}},
		"code":    {kindToken, []string{"code"}},
	},
	"MedicationRequest": {
		"subject": {kindReference, []string{"subject"}},
		"patient": {kindReference, []string{"subject"}},
	},
}

func lookupParam(typ, name string) (param, bool) {
	if p, ok := params[typ][name]; ok {
		return p, true
	}
	p, ok := params["*"][name]
	return p, ok
}

// values collects the leaves at a dotted path, flattening arrays.
func values(doc any, path string) []any {
	cur := []any{doc}
	for _, key := range strings.Split(path, ".") {
		var next []any
		for _, c := range cur {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			switch v := m[key].(type) {
			case nil:
			case []any:
				next = append(next, v...)
			default:
				next = append(next, v)
			}
		}
		cur = next
	}
	return cur
}

// splitOr splits a search value on unescaped commas and unescapes it.
func splitOr(v string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		case v[i] == ',':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(v[i])
		}
	}
	return append(out, b.String())
}

// splitToken splits system|code on the first unescaped pipe.
func splitToken(v string) (system, code string, hasSystem bool) {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' {
			i++
			continue
		}
		if v[i] == '|' {
			return unescape(v[:i]), unescape(v[i+1:]), true
		}
	}
	return "", unescape(v), false
}

func unescape(v string) string {
	return strings.NewReplacer(`\|`, `|`, `\$`, `$`, `\,`, `,`, `\\`, `\`).Replace(v)
}

// dateRange reads a FHIR date, dateTime or instant as [start, end).
func dateRange(s string) (time.Time, time.Time, bool) {
	for _, f := range []struct {
		layout string
		add    func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{time.RFC3339Nano, func(t time.Time) time.Time { return t.Add(time.Second) }},
	} {
		if t, err := time.Parse(f.layout, s); err == nil {
			return t, f.add(t), true
		}
	}
	return time.Time{}, time.Time{}, false
}

// dateMatches compares a resource's date value with a prefixed search value.
func dateMatches(value, search string) bool {
	prefix := "eq"
	if len(search) > 2 && search[0] >= 'a' && search[0] <= 'z' {
		prefix, search = search[:2], search[2:]
	}
	vs, ve, ok1 := dateRange(value)
	ps, pe, ok2 := dateRange(search)
	if !ok1 || !ok2 {
		return false
	}
	overlap := vs.Before(pe) && ps.Before(ve)
	switch prefix {
	case "eq", "ap":
		return overlap
	case "ne":
		return !overlap
	case "gt":
		return ve.After(pe)
	case "lt":
		return vs.Before(ps)
	case "sa":
		return !vs.Before(pe)
	case "eb":
		return !ve.After(ps)
	case "ge":
		return ve.After(ps)
	case "le":
		return vs.Before(pe)
	}
	return false
}
