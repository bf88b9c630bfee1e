package fhirtest

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The content of an export: its files, cut from the store at kick-off,
// and its manifest.

// exportJob cuts the files of req from the store, one per resource type.
func (s *Server) exportJob(req *exportRequest) (*exportJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	job := &exportJob{at: s.now().UTC(), files: map[string]*exportFile{}}
	patients, err := s.exportPatients(req)
	if err != nil {
		return nil, err
	}
	for _, typ := range slices.Sorted(maps.Keys(s.types)) {
		if req.types != nil && !req.types[typ] {
			continue
		}
		recs, err := s.exportRecords(typ, req.filters[typ])
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		f := &exportFile{typ: typ}
		for _, rec := range recs {
			v := rec.current()
			if (!req.since.IsZero() && !v.at.After(req.since)) || (patients != nil && !inCompartment(rec, patients)) {
				continue
			}
			buf.Write(v.body)
			buf.WriteByte('\n')
			f.count++
		}
		if f.data = buf.Bytes(); f.count > 0 {
			job.files[typ+".ndjson"] = f
		}
	}
	return job, nil
}

// exportPatients returns the ids of the patients whose data a Patient or
// Group export holds; nil for a system export.
func (s *Server) exportPatients(req *exportRequest) (map[string]bool, error) {
	ids := map[string]bool{}
	switch req.level {
	case "":
		return nil, nil
	case "Patient":
		for id, rec := range s.types["Patient"] {
			if rec.live() {
				ids[id] = true
			}
		}
		return ids, nil
	}
	rec := s.record("Group", req.group)
	if rec == nil || !rec.live() {
		return nil, fail(http.StatusNotFound, "not-found", "Group/%s is not known", req.group)
	}
	var g struct {
		Member []struct {
			Entity struct{ Reference string } `json:"entity"`
		} `json:"member"`
	}
	_ = json.Unmarshal(rec.current().body, &g)
	for _, m := range g.Member {
		if id, ok := patientID(m.Entity.Reference); ok {
			ids[id] = true
		}
	}
	return ids, nil
}

// exportRecords returns the live resources of typ, in creation order,
// that match one of the _typeFilter queries (all without one).
func (s *Server) exportRecords(typ string, filters []url.Values) ([]*record, error) {
	all, _ := s.match(typ, nil)
	if len(filters) == 0 {
		return all, nil
	}
	keep := map[*record]bool{}
	for _, q := range filters {
		recs, err := s.match(typ, q)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			keep[r] = true
		}
	}
	return slices.DeleteFunc(all, func(r *record) bool { return !keep[r] }), nil
}

// inCompartment reports, roughly, whether rec is in the compartment of one
// of the patients: it is one of them, or its subject or patient refers to
// one.
func inCompartment(rec *record, patients map[string]bool) bool {
	if rec.typ == "Patient" {
		return patients[rec.id]
	}
	var refs struct {
		Subject, Patient struct{ Reference string }
	}
	_ = json.Unmarshal(rec.current().body, &refs)
	for _, ref := range []string{refs.Subject.Reference, refs.Patient.Reference} {
		if id, ok := patientID(ref); ok && patients[id] {
			return true
		}
	}
	return false
}

// patientID reads "Patient/[id]", relative or absolute.
func patientID(ref string) (string, bool) {
	segs := strings.Split(ref, "/")
	if n := len(segs); n >= 2 && segs[n-2] == "Patient" && segs[n-1] != "" {
		return segs[n-1], true
	}
	return "", false
}

func (s *Server) exportManifest(id string, job *exportJob, request string) ([]byte, error) {
	output := []any{}
	for _, name := range slices.Sorted(maps.Keys(job.files)) {
		f := job.files[name]
		output = append(output, map[string]any{"type": f.typ, "url": s.base() + "/" + bulkPath + "/" + id + "/" + name, "count": f.count})
	}
	return json.Marshal(map[string]any{"transactionTime": job.at.Format(instant), "request": request,
		"requiresAccessToken": s.tokenCheck != nil, "output": output, "error": []any{}})
}
