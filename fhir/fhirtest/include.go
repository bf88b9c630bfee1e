package fhirtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// included returns the resources the _include and _revinclude parameters
// of q add to page, the matches of a search of typ: each once, none of the
// matches, live ones only. A parameter names "Type:param" or
// "Type:param:Target", param a reference parameter of Type.
func (s *Server) included(typ string, page []*record, q url.Values) ([]*record, error) {
	seen := map[*record]bool{}
	for _, rec := range page {
		seen[rec] = true
	}
	var out []*record
	add := func(rec *record) {
		if rec != nil && rec.live() && !seen[rec] {
			seen[rec] = true
			out = append(out, rec)
		}
	}
	for _, spec := range q["_include"] {
		src, p, target, err := includeSpec(spec)
		if err != nil {
			return nil, err
		}
		if src != typ {
			continue
		}
		for _, rec := range page {
			for _, ref := range s.refsAt(rec, p) {
				rt, id, _ := strings.Cut(ref, "/")
				if target == "" || target == rt {
					add(s.record(rt, id))
				}
			}
		}
	}
	for _, spec := range q["_revinclude"] {
		src, p, target, err := includeSpec(spec)
		if err != nil {
			return nil, err
		}
		if target != "" && target != typ {
			continue
		}
		srcs, err := s.match(src, nil) // live, in creation order
		if err != nil {
			return nil, err
		}
		for _, rec := range srcs {
			for _, ref := range s.refsAt(rec, p) {
				rt, id, _ := strings.Cut(ref, "/")
				if rt == typ && seenMatch(page, id) {
					add(rec)
					break
				}
			}
		}
	}
	return out, nil
}

func seenMatch(page []*record, id string) bool {
	for _, rec := range page {
		if rec.id == id {
			return true
		}
	}
	return false
}

// includeSpec reads "Type:param[:Target]", param a reference parameter.
func includeSpec(spec string) (typ string, p param, target string, err error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return "", param{}, "", fail(http.StatusBadRequest, "invalid", "_include/_revinclude needs Type:param[:Target], not %q", spec)
	}
	p, ok := lookupParam(parts[0], parts[1])
	if !ok || p.kind != kindReference {
		return "", param{}, "", fail(http.StatusBadRequest, "not-supported", "%s:%s is no reference search parameter", parts[0], parts[1])
	}
	if len(parts) == 3 {
		target = parts[2]
	}
	return parts[0], p, target, nil
}

// refsAt are the "Type/id" references to this server of rec at p's
// paths.
func (s *Server) refsAt(rec *record, p param) []string {
	var doc any
	if json.Unmarshal(rec.current().body, &doc) != nil {
		return nil
	}
	var out []string
	for _, path := range p.paths {
		for _, leaf := range values(doc, path) {
			if m, ok := leaf.(map[string]any); ok {
				if ref := s.localRef(m["reference"]); ref != "" {
					out = append(out, ref)
				}
			}
		}
	}
	return out
}
