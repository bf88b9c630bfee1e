package fhir

import (
	"context"
	"iter"
	"net/http"
)

// Everything runs $everything on a Patient or an Encounter (GET
// [type]/[id]/$everything; id "" asks for every patient, where the server
// allows it) and yields each resource of the record — the patient or the
// encounter, what is in its compartment and what those refer to — as an
// [Entry] whose Resource is decoded by [DecodeResource] (switch on its
// type), following "next" links page by page as [Conn.Pages] does. q
// holds the operation's parameters: start and end (the care dates),
// _since, _type, _count (the page size).
//
//	for e, err := range ehr.Everything(ctx, "Patient", "p-1001", fhir.Params().Add("_type", "Observation,Condition")) {
//		if err != nil {
//			return err // $everything failed: nothing follows
//		}
//		if e.Err != nil {
//			log.Print(e.Err) // this resource did not decode; the others come
//			continue
//		}
//		switch r := e.Resource.(type) {
//		case *models.Observation: …
//		case *models.Condition: …
//		}
//	}
//
// An error yielded by the iteration is the end of it, as for [Search]; a
// resource that does not decode is not: it comes as an Entry with Err set.
func (c *Conn) Everything(ctx context.Context, resourceType, id string, q *Query, opts ...SearchOption) iter.Seq2[*Entry, error] {
	o := searchOpts{}
	for _, f := range opts {
		f(&o)
	}
	err := checkType(resourceType)
	if id != "" && err == nil {
		err = checkID("id", id)
	}
	if err == nil {
		err = o.noCompartment(c, "$everything")
	}
	first := call{method: http.MethodGet, url: c.url(q.Values(), resourceType, id, "$everything")}
	return c.entries(c.pages(ctx, first, err, o.maxPages))
}
