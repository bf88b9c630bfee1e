package fhir

import (
	"context"
	"strings"
)

func write[T any](ctx context.Context, c *Conn, k call) (*Result[T], error) {
	r, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	res := &Result[T]{Status: r.status}
	res.Location = r.header.Get("Location")
	if res.Location == "" {
		res.Location = r.header.Get("Content-Location")
	}
	res.ID, res.VersionID = parseLocation(res.Location)
	if v := parseETag(r.header.Get("ETag")); v != "" {
		res.VersionID = v
	}
	if len(r.body) == 0 {
		return res, nil
	}
	id, err := identify(r.body)
	if err != nil || id.ResourceType == "OperationOutcome" {
		res.Issues = allIssues(r.body)
		return res, nil // no representation; Location and ETag say enough
	}
	if want := typeName[T](); want != "" && id.ResourceType != want {
		return res, nil
	}
	v, err := decode[T](r.body, c.owned())
	if err != nil {
		return nil, err
	}
	res.Resource = v
	if res.ID == "" {
		res.ID = id.ID
	}
	if res.VersionID == "" {
		res.VersionID = id.Meta.VersionID
	}
	return res, nil
}

// parseLocation reads id and version from "…/[type]/[id]/_history/[vid]".
func parseLocation(loc string) (id, version string) {
	if i := strings.IndexAny(loc, "?#"); i >= 0 {
		loc = loc[:i]
	}
	parts := strings.Split(strings.TrimSuffix(loc, "/"), "/")
	n := len(parts)
	if n >= 4 && parts[n-2] == "_history" {
		return parts[n-3], parts[n-1]
	}
	if n >= 2 {
		return parts[n-1], ""
	}
	return "", ""
}

// parseETag reads the version from W/"3" (or "3").
func parseETag(tag string) string {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	return strings.Trim(tag, `"`)
}

// statusCode reads the code of an entry response status ("201 Created",
// "201", and as a few servers write it " 201" or "HTTP/1.1 201 Created"):
// three digits from 100 to 599, alone or before a space; ok is false for
// anything else ("Created", "", "2010").
func statusCode(s string) (code int, ok bool) {
	s = strings.TrimSpace(s)
	if v, rest, found := strings.Cut(s, " "); found && strings.HasPrefix(v, "HTTP/") {
		s = strings.TrimSpace(rest)
	}
	digits, _, _ := strings.Cut(s, " ")
	if len(digits) != 3 {
		return 0, false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
		code = code*10 + int(r-'0')
	}
	if code < 100 || code > 599 {
		return 0, false
	}
	return code, true
}
