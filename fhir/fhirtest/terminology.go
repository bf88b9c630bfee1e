package fhirtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

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
