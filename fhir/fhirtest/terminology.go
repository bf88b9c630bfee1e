package fhirtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// The terminology the server knows: the CodeSystem, ValueSet and
// ConceptMap resources stored in it (Seed them), found by their url, and
// when none has the url asked for, the small built-in ones below.
const (
	labSystem   = "http://example.org/fhir/CodeSystem/lab-tests"
	loincSystem = "http://loinc.org"
)

var builtinTerminology = []string{`{
 "resourceType": "CodeSystem", "id": "lab-tests", "url": "` + labSystem + `", "version": "1.0.0",
 "name": "LabTests", "status": "active", "content": "complete",
 "property": [{"code": "units", "type": "string"}, {"code": "inactive", "type": "boolean"}],
 "concept": [
  {"code": "GLU", "display": "Glucose", "designation": [{"language": "de", "value": "Glukose"}],
   "property": [{"code": "units", "valueString": "mg/dL"}]},
  {"code": "HBA1C", "display": "Hemoglobin A1c", "designation": [{"language": "de", "value": "Hämoglobin A1c"}],
   "property": [{"code": "units", "valueString": "%"}]},
  {"code": "CHOL", "display": "Cholesterol", "designation": [{"language": "de", "value": "Cholesterin"}],
   "property": [{"code": "units", "valueString": "mg/dL"}]},
  {"code": "K", "display": "Potassium", "designation": [{"language": "de", "value": "Kalium"}],
   "property": [{"code": "units", "valueString": "mmol/L"}]},
  {"code": "GLU-OLD", "display": "Glucose (retired method)", "property": [{"code": "inactive", "valueBoolean": true}]}
 ]}`, `{
 "resourceType": "ValueSet", "id": "lab-tests", "url": "http://example.org/fhir/ValueSet/lab-tests", "version": "1.0.0",
 "name": "LabTests", "status": "active", "compose": {"include": [{"system": "` + labSystem + `"}]}}`, `{
 "resourceType": "ValueSet", "id": "diabetes-labs", "url": "http://example.org/fhir/ValueSet/diabetes-labs", "version": "1.0.0",
 "name": "DiabetesLabs", "status": "active",
 "compose": {"include": [{"system": "` + labSystem + `", "concept": [{"code": "GLU"}, {"code": "HBA1C"}]}]}}`, `{
 "resourceType": "ConceptMap", "id": "lab-tests-to-loinc", "url": "http://example.org/fhir/ConceptMap/lab-tests-to-loinc",
 "version": "1.0.0", "name": "LabTestsToLOINC", "status": "active",
 "group": [{"source": "` + labSystem + `", "target": "` + loincSystem + `", "element": [
   {"code": "GLU", "target": [{"code": "2345-7", "display": "Glucose [Mass/volume] in Serum or Plasma", "equivalence": "equivalent"}]},
   {"code": "HBA1C", "target": [{"code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood", "equivalence": "equivalent"}]},
   {"code": "CHOL", "target": [{"code": "2093-3", "display": "Cholesterol [Mass/volume] in Serum or Plasma", "equivalence": "equivalent"}]},
   {"code": "K", "target": [{"code": "2823-3", "display": "Potassium [Moles/volume] in Serum or Plasma", "equivalence": "narrower"}]},
   {"code": "GLU-OLD", "target": [{"equivalence": "unmatched"}]}]},
  {"source": "` + labSystem + `", "target": "http://snomed.info/sct", "element": [
   {"code": "GLU", "target": [{"code": "33747003", "display": "Glucose measurement, blood", "equivalence": "wider"}]}]}]}`}

// termDoc is the part of a CodeSystem, ValueSet or ConceptMap the
// operations read.
type termDoc struct {
	ResourceType string    `json:"resourceType"`
	URL          string    `json:"url"`
	Version      string    `json:"version"`
	Name         string    `json:"name"`
	Concept      []concept `json:"concept"`
	Compose      *struct {
		Include []composeSet `json:"include"`
		Exclude []composeSet `json:"exclude"`
	} `json:"compose"`
	Group []struct {
		Source  string `json:"source"`
		Target  string `json:"target"`
		Element []struct {
			Code   string           `json:"code"`
			Target []map[string]any `json:"target"`
		} `json:"element"`
	} `json:"group"`
}

type concept struct {
	Code        string           `json:"code"`
	Display     string           `json:"display"`
	Designation []map[string]any `json:"designation"`
	Property    []map[string]any `json:"property"`
	Concept     []concept        `json:"concept"`
}

type composeSet struct {
	System   string    `json:"system"`
	Concept  []concept `json:"concept"`
	Filter   []any     `json:"filter"`
	ValueSet []string  `json:"valueSet"`
}

// terminology finds the resource of type typ with canonical url: a
// stored one first, then a built-in one. The store lock is held.
func (s *Server) terminology(typ, url string) (*termDoc, error) {
	for _, d := range s.termDocs(typ) {
		if d.URL == url {
			return d, nil
		}
	}
	return nil, fail(http.StatusNotFound, "not-found", "%s %s is not known", typ, url)
}

// termDocs lists the resources of type typ: the stored ones, then the
// built-in ones. The store lock is held.
func (s *Server) termDocs(typ string) []*termDoc {
	var docs [][]byte
	for _, rec := range s.types[typ] {
		if rec.live() {
			docs = append(docs, rec.current().body)
		}
	}
	for _, b := range builtinTerminology {
		docs = append(docs, []byte(b))
	}
	var out []*termDoc
	for _, b := range docs {
		var d termDoc
		if json.Unmarshal(b, &d) == nil && d.ResourceType == typ {
			out = append(out, &d)
		}
	}
	return out
}

// flatten lists a hierarchy of concepts depth first.
func flatten(cs []concept) []concept {
	var out []concept
	for _, c := range cs {
		out = append(out, c)
		out = append(out, flatten(c.Concept)...)
	}
	return out
}

// find returns the concept with code, or nil.
func (d *termDoc) find(code string) *concept {
	for _, c := range flatten(d.Concept) {
		if c.Code == code {
			return &c
		}
	}
	return nil
}

// opInput reads the inputs of a terminology operation: the query of a
// GET, or the Parameters of a POST; a coding is read as its system,
// code, version and display.
func opInput(r *http.Request) (url.Values, error) {
	q := r.URL.Query()
	if r.Method != http.MethodPost {
		return q, nil
	}
	body, err := readBody(r)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "%v", err)
	}
	var in struct {
		Parameter []map[string]any `json:"parameter"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fail(http.StatusBadRequest, "structure", "the body is not a Parameters resource: %v", err)
	}
	for _, p := range in.Parameter {
		name, _ := p["name"].(string)
		for k, v := range p {
			switch {
			case k == "valueCoding":
				c, _ := v.(map[string]any)
				for _, f := range []string{"system", "code", "version", "display"} {
					if s, ok := c[f].(string); ok && q.Get(f) == "" {
						q.Set(f, s)
					}
				}
			case strings.HasPrefix(k, "value"):
				q.Add(name, fmt.Sprint(v))
			}
		}
	}
	return q, nil
}

// terminologyOp serves the terminology operations; false when name is
// none of them.
func (s *Server) terminologyOp(w http.ResponseWriter, r *http.Request, target, name string) (bool, error) {
	op := map[string]func(url.Values, string) (any, error){
		"ValueSet $expand":          s.expand,
		"CodeSystem $lookup":        s.lookup,
		"ValueSet $validate-code":   s.validateCode,
		"CodeSystem $validate-code": s.validateCode,
		"ConceptMap $translate":     s.translate,
	}
	typ, id, _ := strings.Cut(target, "/")
	fn, ok := op[typ+" $"+name]
	if !ok {
		return false, nil
	}
	in, err := opInput(r)
	if err != nil {
		return true, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "" { // ValueSet/[id]/$expand: the url of the stored one
		rec := s.record(typ, id)
		if rec == nil || !rec.live() {
			return true, fail(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
		}
		var d termDoc
		_ = json.Unmarshal(rec.current().body, &d)
		in.Set("url", d.URL)
	}
	out, err := fn(in, typ)
	if err != nil {
		return true, err
	}
	writeJSON(w, http.StatusOK, out)
	return true, nil
}

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
					parts := []any{map[string]any{"name": "equivalence", "valueCode": t["equivalence"]}}
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
	result := false
	for _, m := range matches {
		eq := m.(map[string]any)["part"].([]any)[0].(map[string]any)["valueCode"]
		result = result || (eq != "unmatched" && eq != "disjoint")
	}
	params := []any{map[string]any{"name": "result", "valueBoolean": result}}
	if !result {
		params = append(params, map[string]any{"name": "message", "valueString": "no mapping for " + in.Get("code")})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": append(params, matches...)}, nil
}
