package fhirtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// tagsMatch reports whether a list of entity tags (an If-Match or
// If-None-Match value) names version vid. The comparison is weak, as FHIR
// servers do: W/"3" and "3" both name version 3; "*" names any version.
func tagsMatch(list string, vid int) bool {
	want := `"` + strconv.Itoa(vid) + `"`
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// ifMatch checks the request's If-Match against the current version of rec
// (nil when there is none): 412 when it does not match.
func ifMatch(r *http.Request, rec *record) error {
	m := r.Header.Get("If-Match")
	if m == "" {
		return nil
	}
	if rec == nil || !rec.live() || !tagsMatch(m, rec.current().vid) {
		return fail(http.StatusPreconditionFailed, "processing", "version conflict: If-Match %s does not match the current version", m)
	}
	return nil
}

// notModified reports whether a conditional read may answer 304 for v:
// If-None-Match names it, or (without If-None-Match) it was last changed
// no later than If-Modified-Since, to the second.
func notModified(r *http.Request, v *version) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return tagsMatch(inm, v.vid)
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !v.at.Truncate(time.Second).After(ims)
}

// criteria reports whether q filters (has a parameter other than the
// result parameters _count, _sort…).
func criteria(q url.Values) bool {
	for name := range q {
		if !resultParams[name] {
			return true
		}
	}
	return false
}

func (s *Server) deleteOne(w http.ResponseWriter, r *http.Request, typ, id string) error {
	if err := ifMatch(r, s.record(typ, id)); err != nil {
		return err
	}
	s.remove(typ, id)
	outcome(w, http.StatusOK, "informational", "deleted "+typ+"/"+id) // as Medplum and HAPI answer
	return nil
}

func (s *Server) conditionalUpdate(w http.ResponseWriter, r *http.Request, typ string) error {
	doc, err := resourceBody(r, typ)
	if err != nil {
		return err
	}
	matches, err := s.match(typ, r.URL.Query())
	if err != nil {
		return err
	}
	bid, _ := doc["id"].(string)
	switch len(matches) {
	case 0:
		if bid == "" {
			bid = s.newID()
		}
		return s.store(w, r, typ, bid, doc)
	case 1:
		if bid != "" && bid != matches[0].id {
			return fail(http.StatusBadRequest, "invalid", "resource id %q does not match the matched resource", bid)
		}
		return s.store(w, r, typ, matches[0].id, doc)
	default:
		return fail(http.StatusPreconditionFailed, "multiple-matches", "conditional update matches %d resources", len(matches))
	}
}

func (s *Server) conditionalDelete(w http.ResponseWriter, r *http.Request, typ string) error {
	matches, err := s.match(typ, r.URL.Query())
	if err != nil {
		return err
	}
	if len(matches) > 1 {
		return fail(http.StatusPreconditionFailed, "multiple-matches", "conditional delete matches %d resources", len(matches))
	}
	for _, m := range matches {
		s.remove(typ, m.id)
	}
	outcome(w, http.StatusOK, "informational", fmt.Sprintf("deleted %d %s", len(matches), typ))
	return nil
}

// conditionalPatch patches the one resource matching the search: 404 when
// none matches, 412 when several do.
func (s *Server) conditionalPatch(w http.ResponseWriter, r *http.Request, typ string) error {
	q := r.URL.Query()
	if !criteria(q) {
		return fail(http.StatusBadRequest, "invalid", "a conditional patch needs search criteria")
	}
	matches, err := s.match(typ, q)
	if err != nil {
		return err
	}
	switch len(matches) {
	case 0:
		return fail(http.StatusNotFound, "not-found", "conditional patch matches no %s", typ)
	case 1:
		return s.patch(w, r, typ, matches[0].id)
	default:
		return fail(http.StatusPreconditionFailed, "multiple-matches", "conditional patch matches %d resources", len(matches))
	}
}
