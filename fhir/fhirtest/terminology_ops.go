package fhirtest

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// expand serves $expand: url, filter (in code or display, any case),
// count and offset.
func (s *Server) expand(in url.Values, _ string) (any, error) {
	vs, err := s.terminology("ValueSet", in.Get("url"))
	if err != nil {
		return nil, err
	}
	all, err := s.members(vs)
	if err != nil {
		return nil, err
	}
	filter := strings.ToLower(in.Get("filter"))
	contains := []any{}
	var matched []map[string]any
	for _, c := range all {
		if filter == "" || strings.Contains(strings.ToLower(c["display"].(string)), filter) || strings.Contains(strings.ToLower(c["code"].(string)), filter) {
			matched = append(matched, c)
		}
	}
	offset, _ := strconv.Atoi(in.Get("offset"))
	count := len(matched)
	if v := in.Get("count"); v != "" {
		count, _ = strconv.Atoi(v)
	}
	for _, c := range page(matched, max(offset, 0), max(count, 0)) {
		contains = append(contains, c)
	}
	return map[string]any{"resourceType": "ValueSet", "url": vs.URL, "version": vs.Version, "name": vs.Name, "status": "active",
		"expansion": map[string]any{"timestamp": s.now().UTC().Format(instant), "total": len(matched),
			"offset": offset, "contains": contains}}, nil
}

// members lists the codes of a value set's compose: includes (a whole
// code system or listed codes) less excludes.
func (s *Server) members(vs *termDoc) ([]map[string]any, error) {
	if vs.Compose == nil {
		return nil, fail(http.StatusBadRequest, "not-supported", "ValueSet %s has no compose", vs.URL)
	}
	codesOf := func(set composeSet) ([]map[string]any, error) {
		if len(set.Filter) > 0 || len(set.ValueSet) > 0 || set.System == "" {
			return nil, fail(http.StatusBadRequest, "not-supported", "this server expands only includes of a system's codes, without filter")
		}
		cs, err := s.terminology("CodeSystem", set.System)
		if err != nil && len(set.Concept) == 0 {
			return nil, err
		}
		listed := set.Concept
		if len(listed) == 0 {
			listed = flatten(cs.Concept)
		}
		var out []map[string]any
		for _, c := range listed {
			display := c.Display
			if cs != nil {
				known := cs.find(c.Code)
				if known == nil {
					return nil, fail(http.StatusBadRequest, "code-invalid", "%s has no code %q", set.System, c.Code)
				}
				display = known.Display
			}
			out = append(out, map[string]any{"system": set.System, "code": c.Code, "display": display})
		}
		return out, nil
	}
	var all []map[string]any
	for _, inc := range vs.Compose.Include {
		cs, err := codesOf(inc)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	for _, exc := range vs.Compose.Exclude {
		cs, err := codesOf(exc)
		if err != nil {
			return nil, err
		}
		for _, x := range cs {
			for i := 0; i < len(all); i++ {
				if all[i]["system"] == x["system"] && all[i]["code"] == x["code"] {
					all = append(all[:i], all[i+1:]...)
					i--
				}
			}
		}
	}
	return all, nil
}

// lookup serves $lookup: system, code (version is not checked).
func (s *Server) lookup(in url.Values, _ string) (any, error) {
	cs, err := s.terminology("CodeSystem", in.Get("system"))
	if err != nil {
		return nil, err
	}
	c := cs.find(in.Get("code"))
	if c == nil {
		return nil, fail(http.StatusNotFound, "not-found", "%s has no code %q", cs.URL, in.Get("code"))
	}
	params := []any{
		map[string]any{"name": "name", "valueString": cs.Name},
		map[string]any{"name": "version", "valueString": cs.Version},
		map[string]any{"name": "display", "valueString": c.Display},
	}
	for _, d := range c.Designation {
		var parts []any
		if l, ok := d["language"]; ok {
			parts = append(parts, map[string]any{"name": "language", "valueCode": l})
		}
		if u, ok := d["use"]; ok {
			parts = append(parts, map[string]any{"name": "use", "valueCoding": u})
		}
		parts = append(parts, map[string]any{"name": "value", "valueString": d["value"]})
		params = append(params, map[string]any{"name": "designation", "part": parts})
	}
	for _, p := range c.Property {
		parts := []any{map[string]any{"name": "code", "valueCode": p["code"]}}
		if k, v, ok := propertyValue(p); ok {
			parts = append(parts, map[string]any{"name": "value", k: v})
		}
		params = append(params, map[string]any{"name": "property", "part": parts})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}, nil
}

// propertyValue is the value[x] of a concept property. A property
// written from the Go models carries every value[x], the unset ones
// zero: the one that is not zero is the value.
func propertyValue(p map[string]any) (string, any, bool) {
	var keys []string
	for k := range p {
		if strings.HasPrefix(k, "value") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := p[k].(type) {
		case string, float64, bool:
			if len(keys) == 1 || (v != "" && v != 0.0 && v != false) {
				return k, v, true
			}
		case map[string]any:
			if len(keys) == 1 || len(v) > 0 {
				return k, v, true
			}
		}
	}
	return "", nil, false
}

// validateCode serves ValueSet/$validate-code (url, system, code,
// display) and CodeSystem/$validate-code (url, code, display).
func (s *Server) validateCode(in url.Values, typ string) (any, error) {
	system, code, display := in.Get("system"), in.Get("code"), in.Get("display")
	var found map[string]any
	if typ == "CodeSystem" {
		system = in.Get("url")
		cs, err := s.terminology("CodeSystem", system)
		if err != nil {
			return nil, err
		}
		if c := cs.find(code); c != nil {
			found = map[string]any{"code": c.Code, "display": c.Display}
		}
	} else {
		vs, err := s.terminology("ValueSet", in.Get("url"))
		if err != nil {
			return nil, err
		}
		all, err := s.members(vs)
		if err != nil {
			return nil, err
		}
		for _, c := range all {
			if c["code"] == code && (system == "" || c["system"] == system) {
				found = c
			}
		}
	}
	result, msg := true, ""
	switch {
	case found == nil:
		result, msg = false, fmt.Sprintf("the code %q of %s is not in %s", code, system, in.Get("url"))
	case display != "" && display != found["display"]:
		result, msg = false, fmt.Sprintf("the display %q is not %q, the display of %q", display, found["display"], code)
	}
	params := []any{map[string]any{"name": "result", "valueBoolean": result}}
	if msg != "" {
		params = append(params, map[string]any{"name": "message", "valueString": msg})
	}
	if found != nil {
		params = append(params, map[string]any{"name": "display", "valueString": found["display"]})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}, nil
}

// translate serves $translate: url (or every known map), system, code,
// targetsystem.
func (s *Server) translate(in url.Values, _ string) (any, error) {
	cms := s.termDocs("ConceptMap")
	if u := in.Get("url"); u != "" {
		m, err := s.terminology("ConceptMap", u)
		if err != nil {
			return nil, err
		}
		cms = []*termDoc{m}
	}
	var matches []any
	result := false
	for _, m := range cms {
		for _, g := range m.Group {
			if g.Source != in.Get("system") || (in.Get("targetsystem") != "" && g.Target != in.Get("targetsystem")) {
				continue
			}
			for _, e := range g.Element {
				if e.Code != in.Get("code") {
					continue
				}
				for _, t := range e.Target {
					eq, _ := t["equivalence"].(string)
					result = result || (eq != "unmatched" && eq != "disjoint")
					parts := []any{map[string]any{"name": "equivalence", "valueCode": eq}}
					if code, ok := t["code"]; ok {
						parts = append(parts, map[string]any{"name": "concept",
							"valueCoding": map[string]any{"system": g.Target, "code": code, "display": t["display"]}})
					}
					parts = append(parts, map[string]any{"name": "source", "valueUri": m.URL})
					matches = append(matches, map[string]any{"name": "match", "part": parts})
				}
			}
		}
	}
	params := []any{map[string]any{"name": "result", "valueBoolean": result}}
	if !result {
		params = append(params, map[string]any{"name": "message", "valueString": "no mapping for " + in.Get("code")})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": append(params, matches...)}, nil
}
