package fhirtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
)

type entryIn struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		IfMatch     string `json:"ifMatch"`
		IfNoneExist string `json:"ifNoneExist"`
	} `json:"request"`
}

// bundle serves POST [base]: a batch or a transaction.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return fail(http.StatusBadRequest, "invalid", "%v", err)
	}
	var in struct {
		ResourceType string    `json:"resourceType"`
		Type         string    `json:"type"`
		Entry        []entryIn `json:"entry"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.ResourceType != "Bundle" {
		return fail(http.StatusBadRequest, "structure", "POST to the base needs a Bundle")
	}
	for i, e := range in.Entry {
		if e.Request == nil || e.Request.Method == "" || e.Request.URL == "" {
			return fail(http.StatusBadRequest, "required", "entry %d has no request method and url", i)
		}
	}
	prefer := r.Header.Get("Prefer")
	switch in.Type {
	case "batch":
		writeJSON(w, http.StatusOK, s.batch(in.Entry, prefer))
		return nil
	case "transaction":
		out, err := s.transaction(in.Entry, prefer)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	return fail(http.StatusBadRequest, "invalid", "bundle type %q is neither batch nor transaction", in.Type)
}

func (s *Server) batch(entries []entryIn, prefer string) map[string]any {
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = s.entry(e, "", prefer)
	}
	return map[string]any{"resourceType": "Bundle", "type": "batch-response", "entry": out}
}

// assignedID is the context key of an id assigned before a transaction runs.
type assignedID struct{}

// entry runs one batch or transaction entry through the router; a create
// uses id when it is not empty.
func (s *Server) entry(e entryIn, id, prefer string) map[string]any {
	rel, query, _ := strings.Cut(strings.TrimPrefix(e.Request.URL, s.base()+"/"), "?")
	req := httptest.NewRequest(strings.ToUpper(e.Request.Method), basePath+"/"+strings.Trim(rel, "/")+"?"+query, bytes.NewReader(e.Resource))
	if id != "" {
		req = req.WithContext(context.WithValue(req.Context(), assignedID{}, id))
	}
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	if e.Request.IfMatch != "" {
		req.Header.Set("If-Match", e.Request.IfMatch)
	}
	if e.Request.IfNoneExist != "" {
		req.Header.Set("If-None-Exist", e.Request.IfNoneExist)
	}
	if req.Method == http.MethodPatch {
		req.Header.Set("Content-Type", "application/json-patch+json")
	}
	rec := httptest.NewRecorder()
	if strings.Contains(rel, "$") || rel == "" {
		outcome(rec, http.StatusBadRequest, "not-supported", "operations and nested bundles are not supported in a bundle")
	} else {
		s.route(rec, req, strings.Trim(rel, "/"))
	}
	resp := map[string]any{"status": fmt.Sprintf("%d %s", rec.Code, http.StatusText(rec.Code))}
	if v := rec.Header().Get("Location"); v != "" {
		resp["location"] = v
	}
	if v := rec.Header().Get("ETag"); v != "" {
		resp["etag"] = v
	}
	if t, err := http.ParseTime(rec.Header().Get("Last-Modified")); err == nil {
		resp["lastModified"] = t.UTC().Format(instant)
	}
	out := map[string]any{"response": resp}
	if rec.Body.Len() > 0 {
		if rec.Code >= 400 || prefer == "return=OperationOutcome" {
			resp["outcome"] = json.RawMessage(rec.Body.Bytes())
		} else {
			out["resource"] = json.RawMessage(rec.Body.Bytes())
		}
	}
	return out
}

func statusOf(st string) int {
	var n int
	_, _ = fmt.Sscanf(st, "%d", &n)
	if n < 400 {
		return http.StatusBadRequest
	}
	return n
}

// history serves _history at instance, type or system level, newest first.
func (s *Server) history(w http.ResponseWriter, r *http.Request, typ, id string) error {
	var recs []*record
	switch {
	case id != "":
		rec := s.record(typ, id)
		if rec == nil {
			return fail(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
		}
		recs = []*record{rec}
	default:
		for t, byID := range s.types {
			if typ == "" || t == typ {
				for _, rec := range byID {
					recs = append(recs, rec)
				}
			}
		}
	}
	type item struct {
		rec *record
		v   *version
	}
	q := r.URL.Query()
	keep, err := historyWindow(q)
	if err != nil {
		return err
	}
	var items []item
	for _, rec := range recs {
		for i := range rec.versions {
			if keep(rec, i) {
				items = append(items, item{rec, &rec.versions[i]})
			}
		}
	}
	slices.SortFunc(items, func(a, b item) int { return b.v.seq - a.v.seq })
	count, offset, err := s.window(q)
	if err != nil {
		return err
	}
	entries := []any{}
	for _, it := range page(items, offset, count) {
		entries = append(entries, s.historyEntry(it.rec, it.v))
	}
	path := strings.Trim(typ+"/"+id, "/") + "/_history"
	writeJSON(w, http.StatusOK, s.pageBundle("history", strings.TrimPrefix(path, "/"), q, len(items), offset, count, entries))
	return nil
}

func (s *Server) historyEntry(rec *record, v *version) map[string]any {
	url := rec.typ + "/" + rec.id
	if v.method == "POST" {
		url = rec.typ
	}
	status := "200 OK"
	switch {
	case v.deleted:
		status = "204 No Content"
	case v.vid == 1 || (v.vid > 1 && rec.versions[v.vid-2].deleted):
		status = "201 Created"
	}
	e := map[string]any{
		"fullUrl":  s.base() + "/" + rec.typ + "/" + rec.id,
		"request":  map[string]any{"method": v.method, "url": url},
		"response": map[string]any{"status": status, "etag": fmt.Sprintf(`W/"%d"`, v.vid), "lastModified": v.at.Format(instant)},
	}
	if !v.deleted {
		e["resource"] = json.RawMessage(v.body)
	}
	return e
}

// capabilities is the server's CapabilityStatement.
func (s *Server) capabilities() map[string]any {
	var res []any
	for _, typ := range slices.Sorted(maps.Keys(params)) {
		if typ == "*" {
			continue
		}
		var sp []any
		for _, name := range slices.Sorted(maps.Keys(params[typ])) {
			sp = append(sp, map[string]any{"name": name, "type": []string{"string", "token", "date", "reference"}[params[typ][name].kind]})
		}
		res = append(res, map[string]any{
			"type": typ, "versioning": "versioned", "readHistory": true, "updateCreate": true,
			"conditionalCreate": true, "conditionalUpdate": true, "conditionalDelete": "single",
			"conditionalRead": "full-support",
			"interaction": []any{
				map[string]any{"code": "read"}, map[string]any{"code": "vread"}, map[string]any{"code": "update"},
				map[string]any{"code": "patch"}, map[string]any{"code": "delete"}, map[string]any{"code": "history-instance"},
				map[string]any{"code": "history-type"}, map[string]any{"code": "create"}, map[string]any{"code": "search-type"},
			},
			"searchParam": sp,
		})
		if _, ok := compartmentLinks[typ]; ok {
			res[len(res)-1].(map[string]any)["operation"] = []any{map[string]any{
				"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/" + typ + "-everything"}}
		}
	}
	return map[string]any{
		"resourceType":   "CapabilityStatement",
		"status":         "active",
		"date":           "2024-01-01",
		"kind":           "instance",
		"software":       map[string]any{"name": "tokenwire fhirtest"},
		"implementation": map[string]any{"description": "in-memory FHIR R4 test server", "url": s.base()},
		"fhirVersion":    "4.0.1",
		"format":         []string{"application/fhir+json"},
		"rest": []any{map[string]any{
			"mode":        "server",
			"resource":    res,
			"interaction": []any{map[string]any{"code": "batch"}, map[string]any{"code": "transaction"}, map[string]any{"code": "history-system"}},
		}},
	}
}
