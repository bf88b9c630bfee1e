package fhirtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// patientCompartment lists, by resource type, the reference elements that
// put a resource in a patient's compartment (of the R4
// CompartmentDefinition "patient", the types this server searches).
var patientCompartment = map[string][]string{
	"Patient":            {"link.other"},
	"Observation":        {"subject", "performer"},
	"Encounter":          {"subject"},
	"Condition":          {"subject", "asserter"},
	"MedicationRequest":  {"subject"},
	"DiagnosticReport":   {"subject"},
	"Procedure":          {"subject", "performer.actor"},
	"AllergyIntolerance": {"patient", "recorder", "asserter"},
	"Immunization":       {"patient"},
}

// compartmentSearch serves GET [compartment]/[id]/[type]?q (and its POST
// _search form): the search of typ within the compartment.
func (s *Server) compartmentSearch(w http.ResponseWriter, comp, id, typ string, q url.Values) error {
	if comp != "Patient" {
		return fail(http.StatusBadRequest, "not-supported", "this server knows only the Patient compartment, not %s", comp)
	}
	paths, ok := patientCompartment[typ]
	if !ok {
		return fail(http.StatusBadRequest, "invalid", "%s is not in the Patient compartment", typ)
	}
	recs, err := s.match(typ, q)
	if err != nil {
		return err
	}
	ref := comp + "/" + id
	var in []*record
	for _, rec := range recs {
		if (typ == comp && rec.id == id) || refersAt(rec, paths, ref) {
			in = append(in, rec)
		}
	}
	return s.searchset(w, typ, ref+"/"+typ, q, in)
}

// refersAt reports whether a reference at one of paths points to ref.
func refersAt(rec *record, paths []string, ref string) bool {
	var doc any
	if json.Unmarshal(rec.current().body, &doc) != nil {
		return false
	}
	for _, p := range paths {
		for _, leaf := range values(doc, p) {
			m, _ := leaf.(map[string]any)
			if r, _ := m["reference"].(string); r == ref || strings.HasSuffix(r, "/"+ref) {
				return true
			}
		}
	}
	return false
}

// searchRoute serves a search of a type, or of a type in a compartment
// (segs [compartment, id, type]), by GET or POST _search; a _getpages
// link stands for the search it was made for.
func (s *Server) searchRoute(w http.ResponseWriter, r *http.Request, segs []string) error {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		var err error
		if q, err = formQuery(r); err != nil {
			return err
		}
	}
	q, err := s.restore(q)
	if err != nil {
		return err
	}
	if len(segs) == 1 || (len(segs) == 2 && segs[1] == "_search") {
		return s.search(w, r, segs[0], q)
	}
	if !typePattern.MatchString(segs[2]) {
		return fail(http.StatusNotFound, "not-supported", "unknown resource type %s", segs[2])
	}
	return s.compartmentSearch(w, segs[0], segs[1], segs[2], q)
}
