package fhirtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// resultParams shape the result and never filter.
var resultParams = map[string]bool{"_count": true, "_offset": true, "_sort": true, "_include": true,
	"_revinclude": true, "_elements": true, "_summary": true, "_total": true, "_format": true, "_pretty": true}

// match returns the live resources of typ matching q, in creation order.
func (s *Server) match(typ string, q url.Values) ([]*record, error) {
	var out []*record
	for _, rec := range s.types[typ] {
		if rec.live() {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b *record) int { return a.created - b.created })
	for name, vals := range q {
		if resultParams[name] {
			continue
		}
		base, mod, _ := strings.Cut(name, ":")
		p, ok := lookupParam(typ, base)
		if base != "_id" && !ok {
			return nil, fail(http.StatusBadRequest, "not-supported", "unknown search parameter %q for %s", base, typ)
		}
		for _, v := range vals { // repeated parameters are ANDed
			out = slices.DeleteFunc(out, func(rec *record) bool {
				if base == "_id" {
					return !slices.Contains(splitOr(v), rec.id)
				}
				return !matchesAny(rec, p, mod, splitOr(v))
			})
		}
	}
	return out, nil
}

func matchesAny(rec *record, p param, mod string, alternatives []string) bool {
	var doc any
	if json.Unmarshal(rec.current().body, &doc) != nil {
		return false
	}
	for _, path := range p.paths {
		for _, leaf := range values(doc, path) {
			for _, alt := range alternatives {
				if leafMatches(leaf, p.kind, mod, alt) {
					return true
				}
			}
		}
	}
	return false
}

func leafMatches(leaf any, k kind, mod, search string) bool {
	switch k {
	case kindString:
		s, _ := leaf.(string)
		switch mod {
		case "exact":
			return s == search
		case "contains":
			return strings.Contains(strings.ToLower(s), strings.ToLower(search))
		}
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(search))
	case kindDate:
		s, _ := leaf.(string)
		return dateMatches(s, search)
	case kindReference:
		m, _ := leaf.(map[string]any)
		ref, _ := m["reference"].(string)
		return ref != "" && (ref == search || strings.HasSuffix(ref, "/"+search) || strings.HasSuffix(search, "/"+ref))
	case kindToken:
		sys, code, hasSys := splitToken(search)
		for _, c := range codings(leaf) {
			if (!hasSys || c[0] == sys) && (code == "" || c[1] == code) {
				return true
			}
		}
	}
	return false
}

// codings reads (system, code) pairs from a code, boolean, Coding,
// CodeableConcept or Identifier.
func codings(leaf any) [][2]string {
	switch v := leaf.(type) {
	case string:
		return [][2]string{{"", v}}
	case bool:
		return [][2]string{{"", strconv.FormatBool(v)}}
	case map[string]any:
		if cs, ok := v["coding"].([]any); ok {
			var out [][2]string
			for _, c := range cs {
				out = append(out, codings(c)...)
			}
			return out
		}
		sys, _ := v["system"].(string)
		code, _ := v["code"].(string)
		if val, ok := v["value"].(string); ok {
			code = val
		}
		return [][2]string{{sys, code}}
	}
	return nil
}

// sortRecords applies _sort (keys _id, _lastUpdated or a parameter name,
// "-" for descending).
func sortRecords(typ string, recs []*record, spec string) {
	keys := strings.Split(spec, ",")
	slices.Reverse(keys)
	for _, k := range keys { // stable sorts from the last key to the first
		desc := strings.HasPrefix(k, "-")
		k = strings.TrimPrefix(k, "-")
		if k == "" {
			continue
		}
		slices.SortStableFunc(recs, func(a, b *record) int {
			c := strings.Compare(sortKey(typ, a, k), sortKey(typ, b, k))
			if desc {
				return -c
			}
			return c
		})
	}
}

func sortKey(typ string, rec *record, k string) string {
	switch k {
	case "_id":
		return rec.id
	case "_lastUpdated":
		return rec.current().at.Format(instant)
	}
	p, ok := lookupParam(typ, k)
	if !ok {
		return ""
	}
	var doc any
	_ = json.Unmarshal(rec.current().body, &doc)
	for _, path := range p.paths {
		for _, leaf := range values(doc, path) {
			if s, ok := leaf.(string); ok {
				return s
			}
		}
	}
	return ""
}

// formQuery reads the parameters of a POST _search: the form body and
// the URL's query.
func formQuery(r *http.Request) (url.Values, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "%v", err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, fail(http.StatusUnsupportedMediaType, "not-supported", "_search needs a form body, not %q", ct)
	}
	q, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "form body: %v", err)
	}
	for k, vs := range r.URL.Query() {
		q[k] = append(q[k], vs...)
	}
	return q, nil
}

func (s *Server) search(w http.ResponseWriter, _ *http.Request, typ string, q url.Values) error {
	recs, err := s.match(typ, q)
	if err != nil {
		return err
	}
	return s.searchset(w, typ, typ, q, recs)
}

// searchset answers a page of the matches recs, its links on path.
func (s *Server) searchset(w http.ResponseWriter, typ, path string, q url.Values, recs []*record) error {
	sortRecords(typ, recs, q.Get("_sort"))
	count, offset, err := s.window(q)
	if err != nil {
		return err
	}
	entries := []any{}
	if q.Get("_summary") != "count" {
		matches := page(recs, offset, count)
		incl, err := s.included(typ, matches, q)
		if err != nil {
			return err
		}
		for i, rec := range slices.Concat(matches, incl) {
			mode := "match"
			if i >= len(matches) {
				mode = "include"
			}
			entries = append(entries, map[string]any{
				"fullUrl":  s.base() + "/" + rec.typ + "/" + rec.id,
				"resource": json.RawMessage(rec.current().body),
				"search":   map[string]any{"mode": mode},
			})
		}
	}
	writeJSON(w, http.StatusOK, s.pageBundle("searchset", path, s.shorten(path, q), len(recs), offset, count, entries))
	return nil
}

// window reads _count and _offset.
func (s *Server) window(q url.Values) (count, offset int, err error) {
	count = s.pageSize
	if v := q.Get("_count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil || count < 0 {
			return 0, 0, fail(http.StatusBadRequest, "invalid", "_count must be a number")
		}
	}
	count = min(count, 1000)
	if v := q.Get("_offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, fail(http.StatusBadRequest, "invalid", "_offset must be a number")
		}
	}
	return count, offset, nil
}

func page[T any](all []T, offset, count int) []T {
	if offset >= len(all) {
		return nil
	}
	return all[offset:min(len(all), offset+count)]
}

// pageBundle builds a searchset or history Bundle with self and next links.
func (s *Server) pageBundle(typ, path string, q url.Values, total, offset, count int, entries []any) map[string]any {
	link := func(off int) string {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("_offset", strconv.Itoa(off))
		nq.Set("_count", strconv.Itoa(count))
		u := s.base()
		if path != "" {
			u += "/" + path
		}
		return u + "?" + nq.Encode()
	}
	links := []any{map[string]any{"relation": "self", "url": link(offset)}}
	if count > 0 && offset+count < total {
		links = append(links, map[string]any{"relation": "next", "url": link(offset + count)})
	}
	return map[string]any{
		"resourceType": "Bundle",
		"type":         typ,
		"total":        total,
		"timestamp":    s.now().UTC().Format(instant),
		"link":         links,
		"entry":        entries,
	}
}
