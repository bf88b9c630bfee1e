package fhirtest

import (
	"net/http"
	"net/url"
)

// compartmentSearch serves GET [compartment]/[id]/[type]?q (and its POST
// _search form): the search of typ within the Patient or Encounter
// compartment, through the elements of compartmentLinks.
func (s *Server) compartmentSearch(w http.ResponseWriter, comp, id, typ string, q url.Values) error {
	links, ok := compartmentLinks[comp]
	if !ok {
		return fail(http.StatusBadRequest, "not-supported", "%s is not a compartment this server knows (Patient, Encounter)", comp)
	}
	paths, ok := links.byType[typ]
	if !ok {
		paths = links.fallback
	}
	recs, err := s.match(typ, q)
	if err != nil {
		return err
	}
	focal := &record{typ: comp, id: id} // the compartment need not be stored
	var in []*record
	for _, rec := range recs {
		if (typ == comp && rec.id == id) || s.refersTo(rec, paths, focal) {
			in = append(in, rec)
		}
	}
	return s.searchset(w, typ, comp+"/"+id+"/"+typ, q, in)
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
