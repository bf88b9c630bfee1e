package fhirtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// compartmentLinks are, by resource type, the elements whose reference
// puts a resource in a Patient's or an Encounter's compartment (after the
// CompartmentDefinitions of FHIR R4); a type not listed is in the
// compartment by fallback.
var compartmentLinks = map[string]struct {
	byType   map[string][]string
	fallback []string
}{
	"Patient": {map[string][]string{
		"Observation":         {"subject", "performer"},
		"Encounter":           {"subject"},
		"Condition":           {"subject", "asserter"},
		"MedicationRequest":   {"subject"},
		"AllergyIntolerance":  {"patient", "recorder", "asserter"},
		"Procedure":           {"subject", "performer.actor"},
		"Immunization":        {"patient"},
		"Coverage":            {"beneficiary", "policyHolder", "subscriber"},
		"Appointment":         {"participant.actor"},
		"RelatedPerson":       {"patient"},
		"FamilyMemberHistory": {"patient"},
		"Patient":             {"link.other"},
	}, []string{"subject", "patient"}},
	"Encounter": {map[string][]string{}, []string{"encounter", "context"}},
}

// serveEverything answers [type]/[id]/$everything and [type]/$everything
// of Patient and Encounter, unless WithOperation serves $everything.
func (s *Server) serveEverything(w http.ResponseWriter, r *http.Request, rel string) bool {
	typ, id, ok := strings.Cut(rel, "/$everything")
	if !ok || id != "" {
		return false
	}
	typ, id, _ = strings.Cut(typ, "/")
	if _, known := compartmentLinks[typ]; !known || s.ops["everything"] != nil {
		return false
	}
	if r.Method != http.MethodGet {
		outcome(w, http.StatusMethodNotAllowed, "not-supported", "$everything is served by GET")
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.everything(w, r.URL.Query(), typ, id); err != nil {
		writeError(w, err)
	}
	return true
}

// everything gathers the focal resources (one, or every one of typ), the
// resources in their compartments and the resources those refer to,
// filtered by _type and _since, as a paged searchset.
func (s *Server) everything(w http.ResponseWriter, q url.Values, typ, id string) error {
	var focal []*record
	if id != "" {
		rec := s.record(typ, id)
		if rec == nil || !rec.live() {
			return fail(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
		}
		focal = []*record{rec}
	} else {
		focal, _ = s.match(typ, nil)
	}
	var since time.Time
	if v := q.Get("_since"); v != "" {
		var ok bool
		if since, _, ok = dateRange(v); !ok {
			return fail(http.StatusBadRequest, "invalid", "_since must be an instant, not %q", v)
		}
	}
	types := map[string]bool{}
	for _, t := range strings.Split(q.Get("_type"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}
	var out []*record
	seen := map[*record]bool{}
	add := func(rec *record) {
		if !seen[rec] && rec.live() {
			seen[rec] = true
			out = append(out, rec)
		}
	}
	for _, f := range focal {
		add(f)
		for _, rec := range s.inCompartment(typ, f) {
			add(rec)
		}
	}
	for _, rec := range slices.Clone(out) { // and what they refer to
		for _, ref := range s.references(rec) {
			add(ref)
		}
	}
	out = slices.DeleteFunc(out, func(rec *record) bool {
		return (len(types) > 0 && !types[rec.typ]) || (!since.IsZero() && rec.current().at.Before(since))
	})
	count, offset, err := s.window(q)
	if err != nil {
		return err
	}
	entries := []any{}
	for _, rec := range page(out, offset, count) {
		entries = append(entries, map[string]any{
			"fullUrl":  s.base() + "/" + rec.typ + "/" + rec.id,
			"resource": json.RawMessage(rec.current().body),
			"search":   map[string]any{"mode": "match"},
		})
	}
	path := strings.Trim(typ+"/"+id, "/") + "/$everything"
	writeJSON(w, http.StatusOK, s.pageBundle("searchset", path, q, len(out), offset, count, entries))
	return nil
}

// inCompartment lists the live resources in the compartment of focal (a
// Patient or an Encounter), in creation order.
func (s *Server) inCompartment(kind string, focal *record) []*record {
	links := compartmentLinks[kind]
	var out []*record
	for typ, recs := range s.types {
		paths, ok := links.byType[typ]
		if !ok {
			paths = links.fallback
		}
		for _, rec := range recs {
			if rec != focal && rec.live() && s.refersTo(rec, paths, focal) {
				out = append(out, rec)
			}
		}
	}
	slices.SortFunc(out, func(a, b *record) int { return a.created - b.created })
	return out
}

// refersTo reports whether an element at one of paths of rec refers to
// target, relatively or by an absolute URL on this server.
func (s *Server) refersTo(rec *record, paths []string, target *record) bool {
	var doc any
	if json.Unmarshal(rec.current().body, &doc) != nil {
		return false
	}
	want := target.typ + "/" + target.id
	for _, p := range paths {
		for _, leaf := range values(doc, p) {
			if m, ok := leaf.(map[string]any); ok && s.localRef(m["reference"]) == want {
				return true
			}
		}
	}
	return false
}

// references lists the live resources of this server that rec refers to.
func (s *Server) references(rec *record) []*record {
	var doc any
	if json.Unmarshal(rec.current().body, &doc) != nil {
		return nil
	}
	var out []*record
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for k, x := range v {
				if k == "reference" {
					typ, id, _ := strings.Cut(s.localRef(x), "/")
					if ref := s.record(typ, id); ref != nil && ref.live() {
						out = append(out, ref)
					}
					continue
				}
				walk(x)
			}
		}
	}
	walk(doc)
	slices.SortFunc(out, func(a, b *record) int { return a.created - b.created })
	return out
}

// localRef turns a reference value into "Type/id" when it names a
// resource of this server; "" otherwise.
func (s *Server) localRef(v any) string {
	ref, _ := v.(string)
	ref = strings.TrimPrefix(ref, s.base()+"/")
	if parts := strings.Split(ref, "/"); len(parts) == 2 && typePattern.MatchString(parts[0]) && idPattern.MatchString(parts[1]) {
		return ref
	}
	return ""
}
