package fhir

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Page is one page of a search: the matches of type T, apart from the
// resources that _include and _revinclude brought (search mode
// "include") and the server's own remarks (mode "outcome").
type Page[T any] struct {
	Total    *int              // Bundle.total, when the server sent it
	Links    map[string]string // the page links by relation: self, next, previous, first, last
	Matches  []*T              // the entries of mode "match" (or none) and of type T
	Included []any             // the entries of mode "include", decoded by DecodeResource
	Outcome  []Issue           // the issues of mode "outcome" OperationOutcome entries
	Errors   []error           // the entries that did not decode; the others are kept

	conn     *Conn
	included map[string]any // by fullUrl and by "Type/id"
}

// SearchPages runs a search like [Search] and yields it page by page, with
// the total, the links, the matches and the included resources apart.
// The two kinds of failure have two places: an entry that does not decode
// (a [*DecodeError] naming the page and the entry) is listed in the page's
// Errors and the page keeps the other entries, while an error yielded by
// the iteration is the failure of the search itself (the request failed,
// the server broke the paging rules), after which nothing more comes:
// return it (see the example).
//
//	for page, err := range fhir.SearchPages[models.MedicationRequest](ctx, conn,
//		fhir.Params().Add("status", "active").Add("_include", "MedicationRequest:medication")) {
//		if err != nil { return err }
//		for _, mr := range page.Matches {
//			refs, err := conn.Resolve(ctx, page, *mr.MedicationReference) // the included Medication, else a read
//			…
//		}
//	}
func SearchPages[T any](ctx context.Context, c *Conn, q *Query, opts ...SearchOption) iter.Seq2[*Page[T], error] {
	rt, err := modelType[T]()
	return func(yield func(*Page[T], error) bool) {
		if err != nil {
			yield(nil, err)
			return
		}
		n := 0
		for b, err := range c.Pages(ctx, rt, q, opts...) {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
			if !yield(newPage[T](c, rt, b, n), nil) {
				return
			}
		}
	}
}

func newPage[T any](c *Conn, rt string, b *models.Bundle, n int) *Page[T] {
	p := &Page[T]{Total: b.Total, Links: map[string]string{}, conn: c, included: map[string]any{}}
	for _, l := range b.Link {
		p.Links[l.Relation] = l.Url
	}
	for i := range b.Entry {
		e := &b.Entry[i]
		if len(e.Resource) == 0 {
			continue
		}
		switch m := mode(e); {
		case m == models.SearchEntryModeOutcome:
			p.Outcome = append(p.Outcome, allIssues(e.Resource)...)
		case m == models.SearchEntryModeInclude:
			v, err := decodeResource(e.Resource, c.dec)
			if err != nil {
				p.Errors = append(p.Errors, c.entryError(n, i, err))
				continue
			}
			p.Included = append(p.Included, v)
			p.index(e, v)
		default:
			if t, _ := resourceTypeOf(e.Resource); t != rt {
				continue
			}
			v, err := decode[T](e.Resource, c.dec)
			if err != nil {
				p.Errors = append(p.Errors, c.entryError(n, i, err))
				continue
			}
			p.Matches = append(p.Matches, v)
			p.index(e, v)
		}
	}
	return p
}

// index files an entry's resource under its fullUrl and its "Type/id".
func (p *Page[T]) index(e *models.BundleEntry, v any) {
	if e.FullUrl != nil && *e.FullUrl != "" {
		p.included[*e.FullUrl] = v
	}
	if id, err := identify(e.Resource); err == nil && id.ID != "" {
		p.included[id.ResourceType+"/"+id.ID] = v
	}
}

// relative turns a reference into "Type/id" (or "Type/id/_history/v")
// relative to the base URL, refusing those that point elsewhere.
func (c *Conn) relative(ref string) (string, error) {
	if strings.HasPrefix(ref, "#") {
		return "", fmt.Errorf("fhir: %s: resolve: %s is a contained reference: look in the resource's contained", c.name, quoted(ref, 64))
	}
	u, err := url.Parse(ref)
	if err != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("fhir: %s: resolve: not a resource reference", c.name)
	}
	if u.IsAbs() {
		base := c.BaseURL() + "/"
		if !c.sameOrigin(ref) || !strings.HasPrefix(u.Path, c.base.Path+"/") {
			return "", fmt.Errorf("fhir: %s: resolve: %s is not on the base URL %s", c.name, shownURL(ref), base)
		}
		ref = strings.TrimPrefix(u.Path, c.base.Path+"/")
	}
	segs := strings.Split(ref, "/")
	if (len(segs) != 2 && len(segs) != 4) || (len(segs) == 4 && segs[2] != "_history") || checkType(segs[0]) != nil {
		return "", fmt.Errorf("fhir: %s: resolve: not a Type/id reference", c.name)
	}
	for i := 1; i < len(segs); i += 2 {
		if err := checkID("id", segs[i]); err != nil {
			return "", fmt.Errorf("fhir: %s: resolve: not a Type/id reference: %w", c.name, err)
		}
	}
	return ref, nil
}
