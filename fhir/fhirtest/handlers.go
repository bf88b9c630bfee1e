package fhirtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

var (
	typePattern = regexp.MustCompile(`^[A-Z][A-Za-z]{0,63}$`)
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
)

// route serves one request with the store lock held.
func (s *Server) route(w http.ResponseWriter, r *http.Request, rel string) {
	var segs []string
	if rel != "" {
		segs = strings.Split(rel, "/")
	}
	if len(segs) > 0 && segs[0] != "metadata" && segs[0] != "_history" && !typePattern.MatchString(segs[0]) {
		outcome(w, http.StatusNotFound, "not-supported", "unknown resource type "+segs[0])
		return
	}
	if len(segs) > 1 && segs[1] != "_search" && segs[1] != "_history" && !idPattern.MatchString(segs[1]) {
		outcome(w, http.StatusBadRequest, "invalid", "invalid id")
		return
	}
	key := r.Method + " " + shape(segs)
	var err error
	switch key {
	case "POST ":
		err = s.bundle(w, r)
	case "GET metadata":
		writeJSON(w, http.StatusOK, addOperations(s.capabilities()))
	case "GET _history":
		err = s.history(w, r, "", "")
	case "GET T", "POST T/_search", "GET T/I/V", "POST T/I/V/_search":
		err = s.searchRoute(w, r, segs)
	case "POST T":
		err = s.create(w, r, segs[0])
	case "PUT T":
		err = s.conditionalUpdate(w, r, segs[0])
	case "DELETE T":
		err = s.conditionalDelete(w, r, segs[0])
	case "PATCH T":
		err = s.conditionalPatch(w, r, segs[0])
	case "GET T/_history":
		err = s.history(w, r, segs[0], "")
	case "GET T/I":
		err = s.read(w, r, segs[0], segs[1], "")
	case "PUT T/I":
		err = s.update(w, r, segs[0], segs[1])
	case "PATCH T/I":
		err = s.patch(w, r, segs[0], segs[1])
	case "DELETE T/I":
		err = s.deleteOne(w, r, segs[0], segs[1])
	case "GET T/I/_history":
		err = s.history(w, r, segs[0], segs[1])
	case "GET T/I/_history/V":
		err = s.read(w, r, segs[0], segs[1], segs[3])
	default:
		err = fail(http.StatusMethodNotAllowed, "not-supported", "%s %s is not supported", r.Method, rel)
	}
	if err != nil {
		writeError(w, err)
	}
}

// shape abstracts a path: Patient/1/_history/2 → T/I/_history/V.
func shape(segs []string) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		switch {
		case s == "_history" || s == "_search" || s == "metadata":
			out[i] = s
		case i == 0:
			out[i] = "T"
		case i == 1:
			out[i] = "I"
		default:
			out[i] = "V"
		}
	}
	return strings.Join(out, "/")
}

// read answers a read or vread; a conditional one (If-None-Match,
// If-Modified-Since) gets 304 with no body when the version is unchanged.
func (s *Server) read(w http.ResponseWriter, r *http.Request, typ, id, vid string) error {
	rec := s.record(typ, id)
	if rec == nil {
		return fail(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
	}
	v := rec.current()
	if vid != "" {
		n, _ := strconv.Atoi(vid)
		if n < 1 || n > len(rec.versions) {
			return fail(http.StatusNotFound, "not-found", "%s/%s has no version %s", typ, id, vid)
		}
		v = &rec.versions[n-1]
	}
	if v.deleted {
		return fail(http.StatusGone, "deleted", "%s/%s was deleted", typ, id)
	}
	s.versionHeaders(w, typ, id, v)
	if notModified(r, v) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeJSON(w, http.StatusOK, v.body)
	return nil
}

func (s *Server) versionHeaders(w http.ResponseWriter, typ, id string, v *version) {
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, v.vid))
	w.Header().Set("Last-Modified", v.at.Format(http.TimeFormat))
}

// written answers a create or update with Location, ETag and the resource
// (unless Prefer: return=minimal).
func (s *Server) written(w http.ResponseWriter, r *http.Request, status int, rec *record) {
	v := rec.current()
	s.versionHeaders(w, rec.typ, rec.id, v)
	w.Header().Set("Location", fmt.Sprintf("%s/%s/%s/_history/%d", s.base(), rec.typ, rec.id, v.vid))
	switch r.Header.Get("Prefer") {
	case "return=minimal":
		w.WriteHeader(status)
	case "return=OperationOutcome":
		writeJSON(w, status, outcomeDoc("information", "informational", "ok"))
	default:
		writeJSON(w, status, v.body)
	}
}

// resourceBody reads and checks the request's resource.
func resourceBody(r *http.Request, typ string) (map[string]any, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "%v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fail(http.StatusBadRequest, "structure", "body is not a JSON resource: %v", err)
	}
	if rt, _ := doc["resourceType"].(string); rt != typ {
		return nil, fail(http.StatusBadRequest, "invalid", "resourceType %q does not match %s", rt, typ)
	}
	return doc, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, typ string) error {
	doc, err := resourceBody(r, typ)
	if err != nil {
		return err
	}
	if cond := r.Header.Get("If-None-Exist"); cond != "" {
		q, err := url.ParseQuery(strings.TrimPrefix(cond, typ+"?"))
		if err != nil {
			return fail(http.StatusBadRequest, "invalid", "If-None-Exist: %v", err)
		}
		matches, err := s.match(typ, q)
		if err != nil {
			return err
		}
		switch len(matches) {
		case 0:
		case 1:
			s.written(w, r, http.StatusOK, matches[0])
			return nil
		default:
			return fail(http.StatusPreconditionFailed, "multiple-matches", "If-None-Exist matches %d resources", len(matches))
		}
	}
	if err := checkWrite(typ, doc); err != nil {
		return err
	}
	id, ok := r.Context().Value(assignedID{}).(string)
	if !ok {
		id = s.newID()
	}
	rec, err := s.put(typ, id, doc, "POST")
	if err != nil {
		return err
	}
	s.written(w, r, http.StatusCreated, rec)
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, typ, id string) error {
	doc, err := resourceBody(r, typ)
	if err != nil {
		return err
	}
	if bid, _ := doc["id"].(string); bid != id {
		return fail(http.StatusBadRequest, "invalid", "resource id %q does not match the URL id %q", bid, id)
	}
	return s.store(w, r, typ, id, doc)
}

// store writes doc as the next version of typ/id after checking If-Match
// and the resource.
func (s *Server) store(w http.ResponseWriter, r *http.Request, typ, id string, doc map[string]any) error {
	if err := checkWrite(typ, doc); err != nil {
		return err
	}
	rec := s.record(typ, id)
	existed := rec != nil && rec.live()
	if err := ifMatch(r, rec); err != nil {
		return err
	}
	rec, err := s.put(typ, id, doc, "PUT")
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	s.written(w, r, status, rec)
	return nil
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, typ, id string) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json-patch+json") {
		return fail(http.StatusUnsupportedMediaType, "not-supported", "PATCH needs application/json-patch+json, not %q", ct)
	}
	rec := s.record(typ, id)
	if rec == nil {
		return fail(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
	}
	if !rec.live() {
		return fail(http.StatusGone, "deleted", "%s/%s was deleted", typ, id)
	}
	if err := ifMatch(r, rec); err != nil { // before the patch is applied: 412 wins over 400
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return fail(http.StatusBadRequest, "invalid", "%v", err)
	}
	var doc any
	if err := json.Unmarshal(rec.current().body, &doc); err != nil {
		return err
	}
	if doc, err = applyPatch(doc, body); err != nil {
		return err
	}
	m, ok := doc.(map[string]any)
	if !ok || m["resourceType"] != typ || m["id"] != id {
		return fail(http.StatusBadRequest, "invalid", "a patch may not change resourceType or id")
	}
	return s.store(w, r, typ, id, m)
}
