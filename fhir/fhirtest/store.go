package fhirtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"
)

// version is one stored version of a resource; body is nil for a delete.
type version struct {
	vid     int
	body    []byte
	at      time.Time
	method  string
	deleted bool
	seq     int // server-wide order of writes
}

type record struct {
	typ, id  string
	created  int // creation order, the default sort
	versions []version
}

func (r *record) current() *version { return &r.versions[len(r.versions)-1] }

func (r *record) live() bool { return len(r.versions) > 0 && !r.current().deleted }

func (s *Server) record(typ, id string) *record {
	return s.types[typ][id]
}

// newID returns the next server-assigned id.
func (s *Server) newID() string {
	s.nextID++
	return strconv.Itoa(s.nextID)
}

// put stores doc (a decoded resource) as the next version of typ/id and
// returns the stored version. doc gets id and meta set.
func (s *Server) put(typ, id string, doc map[string]any, method string) (*record, error) {
	rec := s.record(typ, id)
	if rec == nil {
		if s.types[typ] == nil {
			s.types[typ] = map[string]*record{}
		}
		s.seq++
		rec = &record{typ: typ, id: id, created: s.seq}
		s.types[typ][id] = rec
	}
	vid := 1
	if len(rec.versions) > 0 {
		vid = rec.current().vid + 1
	}
	at := s.now().UTC().Truncate(time.Millisecond) // as it is sent (meta.lastUpdated)
	meta, _ := doc["meta"].(map[string]any)
	meta = maps.Clone(meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["versionId"] = strconv.Itoa(vid)
	meta["lastUpdated"] = at.Format(instant)
	doc["meta"] = meta
	doc["id"] = id
	doc["resourceType"] = typ
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding %s/%s: %w", typ, id, err)
	}
	s.seq++
	rec.versions = append(rec.versions, version{vid: vid, body: body, at: at, method: method, seq: s.seq})
	return rec, nil
}

// remove appends a delete version; false when there was nothing to delete.
func (s *Server) remove(typ, id string) bool {
	rec := s.record(typ, id)
	if rec == nil || !rec.live() {
		return false
	}
	s.seq++
	rec.versions = append(rec.versions, version{vid: rec.current().vid + 1, at: s.now().UTC().Truncate(time.Millisecond),
		method: "DELETE", deleted: true, seq: s.seq})
	return true
}

// instant is the FHIR instant format.
const instant = "2006-01-02T15:04:05.000Z07:00"

// snapshot copies the store (for transaction rollback).
func (s *Server) snapshot() func() {
	types := make(map[string]map[string]*record, len(s.types))
	for t, recs := range s.types {
		cp := make(map[string]*record, len(recs))
		for id, r := range recs {
			rc := *r
			rc.versions = append([]version(nil), r.versions...)
			cp[id] = &rc
		}
		types[t] = cp
	}
	nextID, seq := s.nextID, s.seq
	return func() { s.types, s.nextID, s.seq = types, nextID, seq }
}

// Seed stores resources (models or JSON) as they are, keeping their ids
// (an id is assigned when missing), without the checks of a write. It
// returns the ids.
func (s *Server) Seed(resources ...any) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(resources))
	for _, res := range resources {
		doc, err := toDoc(res)
		if err != nil {
			return ids, err
		}
		typ, _ := doc["resourceType"].(string)
		if typ == "" {
			return ids, fmt.Errorf("fhirtest: seed: resource without resourceType")
		}
		id, _ := doc["id"].(string)
		if id == "" {
			id = s.newID()
		}
		if _, err := s.put(typ, id, doc, "PUT"); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Resource returns the current JSON of typ/id; false when missing or deleted.
func (s *Server) Resource(typ, id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.record(typ, id)
	if rec == nil || !rec.live() {
		return nil, false
	}
	return rec.current().body, true
}

func toDoc(res any) (map[string]any, error) {
	var b []byte
	switch v := res.(type) {
	case []byte:
		b = v
	case json.RawMessage:
		b = v
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(res); err != nil {
			return nil, fmt.Errorf("fhirtest: encoding %T: %w", res, err)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("fhirtest: not a JSON resource: %w", err)
	}
	return doc, nil
}
