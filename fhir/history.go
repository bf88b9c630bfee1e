package fhir

import (
	"context"
	"iter"
	"net/http"
)

// History yields the versions of one resource (GET [type]/[id]/_history),
// of every resource of a type (id "") or of the whole server (type and id
// ""), newest first as the server sends them, following "next" links (see
// [Conn.Pages] for the bounds; [MaxPages] applies). Each version is an
// [Entry]: the resource as it was (nil for a deletion), Method (POST, PUT,
// PATCH, DELETE), ID, VersionID and LastModified.
//
// q narrows the history: _since (versions made at or after an instant),
// _at (the versions current at some point in a date or instant), _count
// (the page size); an instant is written as RFC 3339:
//
//	q := fhir.Params().Add("_since", since.UTC().Format(time.RFC3339))
//	for e, err := range ehr.History(ctx, "Patient", "p-1001", q) {
//		if err != nil {
//			return err // the history failed: nothing follows
//		}
//		if e.Err != nil { … } // this version did not decode; the others come
//	}
//
// An error yielded by the iteration is the end of it, as for [Search]; a
// version that does not decode is not: it comes as an Entry with Err set.
func (c *Conn) History(ctx context.Context, resourceType, id string, q *Query, opts ...SearchOption) iter.Seq2[*Entry, error] {
	o := searchOpts{}
	for _, f := range opts {
		f(&o)
	}
	var err error
	if resourceType != "" || id != "" { // an id needs its type
		err = checkType(resourceType)
	}
	if id != "" && err == nil {
		err = checkID("id", id)
	}
	if err == nil {
		err = o.noCompartment(c, "history")
	}
	first := call{method: http.MethodGet, url: c.url(q.Values(), resourceType, id, "_history")}
	return c.entries(c.pages(ctx, first, err, o.maxPages))
}
