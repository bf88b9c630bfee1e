package fhirtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// transaction runs the entries as FHIR orders them (DELETE, POST,
// PUT/PATCH, GET) and rolls back on any failure. Before the creates run,
// each urn:uuid: full URL of a create or a conditional update is given
// its target — a new id, or the resource an If-None-Exist or the
// condition matches — and every reference in the entries' resources to
// such a full URL, or conditional ("Patient?identifier=…", exactly one
// match), is replaced by "Type/id".
func (s *Server) transaction(entries []entryIn, prefer string) (map[string]any, error) {
	rollback := s.snapshot()
	out, err := s.runTransaction(entries, prefer)
	if err != nil {
		rollback()
		return nil, err
	}
	return map[string]any{"resourceType": "Bundle", "type": "transaction-response", "entry": out}, nil
}

var txRank = map[string]int{"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}

func (s *Server) runTransaction(entries []entryIn, prefer string) ([]any, error) {
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	method := func(i int) string { return strings.ToUpper(entries[i].Request.Method) }
	slices.SortStableFunc(order, func(a, b int) int { return txRank[method(a)] - txRank[method(b)] })
	out := make([]any, len(entries))
	run := func(i int, id string) error {
		e := entries[i]
		res := s.entry(e, id, prefer)
		if st := res["response"].(map[string]any)["status"].(string); st[0] != '2' {
			err := fail(statusOf(st), "processing", "transaction failed at entry %d (%s %s): %s", i, e.Request.Method, txPath(e.Request.URL), st)
			return withEntryIssues(err.(*httpError), res)
		}
		out[i] = res
		return nil
	}
	k := 0
	for ; k < len(order) && method(order[k]) == "DELETE"; k++ {
		if err := run(order[k], ""); err != nil {
			return nil, err
		}
	}
	targets, assigned, err := s.txTargets(entries)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		if len(entries[i].Resource) == 0 {
			continue
		}
		if entries[i].Resource, err = s.rewriteRefs(entries[i].Resource, targets, assigned[i]); err != nil {
			return nil, err
		}
	}
	for _, i := range order[k:] {
		if err := run(i, assigned[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// txPath is a request url without its query (which may name a person).
func txPath(u string) string { return strings.SplitN(u, "?", 2)[0] }

// txTargets gives each urn:uuid: full URL of a create or a conditional
// update its "Type/id"; assigned holds the new id of each entry that
// creates one.
func (s *Server) txTargets(entries []entryIn) (map[string]string, []string, error) {
	targets := map[string]string{}
	assigned := make([]string, len(entries))
	for i, e := range entries {
		m := strings.ToUpper(e.Request.Method)
		typ, query, conditional := strings.Cut(strings.Trim(e.Request.URL, "/"), "?")
		if !strings.HasPrefix(e.FullURL, "urn:uuid:") {
			continue
		}
		if m == "PUT" && !conditional {
			targets[e.FullURL] = typ // Type/id
			continue
		}
		if m != "POST" && m != "PUT" {
			continue
		}
		cond := query
		if m == "POST" {
			cond = strings.TrimPrefix(e.Request.IfNoneExist, typ+"?")
		}
		if cond != "" {
			found, err := s.matchOne(typ, cond, "entry condition")
			if err != nil {
				return nil, nil, err
			}
			if found != "" {
				targets[e.FullURL] = typ + "/" + found
				continue
			}
		}
		assigned[i] = s.newID()
		targets[e.FullURL] = typ + "/" + assigned[i]
	}
	return targets, assigned, nil
}

// matchOne finds the resource of typ matching query: "" when none, an
// error when several do (412).
func (s *Server) matchOne(typ, query, what string) (string, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fail(http.StatusBadRequest, "invalid", "%s on %s: %v", what, typ, err)
	}
	matches, err := s.match(typ, q)
	if err != nil {
		return "", err
	}
	switch len(matches) {
	case 0:
		return "", nil
	case 1:
		return matches[0].id, nil
	}
	return "", fail(http.StatusPreconditionFailed, "multiple-matches", "%s on %s matches %d resources", what, typ, len(matches))
}

// rewriteRefs replaces, in a resource, the references to the full URLs of
// targets and the conditional references; id, when not empty, becomes
// the resource's id (a conditional update that creates).
func (s *Server) rewriteRefs(raw json.RawMessage, targets map[string]string, id string) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // decimals keep their digits
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return raw, nil // the entry itself will say what is wrong
	}
	if err := s.walkRefs(doc, targets); err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok && id != "" {
		if _, has := m["id"]; !has {
			m["id"] = id
		}
	}
	return json.Marshal(doc)
}

func (s *Server) walkRefs(v any, targets map[string]string) error {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if err := s.walkRefs(x, targets); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, x := range v {
			ref, isStr := x.(string)
			if k != "reference" || !isStr {
				if err := s.walkRefs(x, targets); err != nil {
					return err
				}
				continue
			}
			if t, ok := targets[ref]; ok {
				v[k] = t
				continue
			}
			if strings.HasPrefix(ref, "urn:uuid:") {
				return fail(http.StatusBadRequest, "not-found", "reference %s names no entry of the transaction", ref)
			}
			typ, query, conditional := strings.Cut(ref, "?")
			if !conditional || !typePattern.MatchString(typ) {
				continue
			}
			found, err := s.matchOne(typ, query, "conditional reference")
			if err != nil {
				return err
			}
			if found == "" {
				return fail(http.StatusPreconditionFailed, "not-found", "conditional reference to %s matches no resource", typ)
			}
			v[k] = typ + "/" + found
		}
	}
	return nil
}

// withEntryIssues adds the issues of the failed entry's outcome after the
// transaction's own, as a real server answers the failing entry's outcome.
func withEntryIssues(he *httpError, res map[string]any) error {
	raw, _ := res["response"].(map[string]any)["outcome"].(json.RawMessage)
	var oo struct {
		Issue []any `json:"issue"`
	}
	if json.Unmarshal(raw, &oo) != nil || len(oo.Issue) == 0 {
		return he
	}
	he.issues = append([]any{issue("error", he.code, he.msg, "")}, oo.Issue...)
	return he
}
