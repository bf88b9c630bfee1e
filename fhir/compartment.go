package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tokenwire/tokenwire/rest"
)

// maxSearchURL is the longest search URL sent by GET (8 KiB, scheme and
// host included): the request line servers and proxies commonly accept
// (Apache 8190 bytes, nginx and Tomcat 8 KiB). A longer search is sent as
// POST [type]/_search with a form body.
const maxSearchURL = 8 << 10

// Compartment searches within a compartment: GET
// [compartment]/[id]/[type]?[q], such as Patient/123/Observation?code=…,
// finds the resources of the type that the server's compartment
// definition links to the patient (for Observation: subject and
// performer) — no search parameter has to name the link. The compartment
// is a resource type (Patient, Encounter, RelatedPerson, Practitioner,
// Device); a search of all types ([Conn.Pages] with resourceType "")
// has no compartment form, nor have [Conn.History] and
// [Conn.Everything].
//
//	for o, err := range fhir.Search[models.Observation](ctx, ehr, fhir.Params().Add("code", loinc), fhir.Compartment("Patient", "123")) {
func Compartment(compartment, id string) SearchOption {
	return func(o *searchOpts) { o.compartment = []string{compartment, id} }
}

// noCompartment refuses a Compartment option where it has no meaning
// (a history, $everything).
func (o searchOpts) noCompartment(c *Conn, what string) error {
	if o.compartment == nil {
		return nil
	}
	return fmt.Errorf("fhir: %s: %s has no compartment form: %w", c.name, what, rest.ErrBadPath)
}

// searchCall is the first request of a search: GET with the parameters in
// the URL, or POST _search with them in a form body when usePost or when
// the URL would be longer than maxSearchURL. A GET carries the POST as its alt, sent
// instead when a server or a proxy answers 414 URI Too Long below that.
func (c *Conn) searchCall(resourceType string, q *Query, compartment []string, usePost bool) (call, error) {
	var segs []string
	if compartment != nil {
		if resourceType == "" {
			return call{}, fmt.Errorf("fhir: %s: a compartment search needs a resource type: %w", c.name, rest.ErrBadPath)
		}
		if err := checkType(compartment[0]); err != nil {
			return call{}, fmt.Errorf("fhir: %s: compartment: %w", c.name, err)
		}
		if err := checkID("compartment id", compartment[1]); err != nil {
			return call{}, fmt.Errorf("fhir: %s: %w", c.name, err)
		}
		segs = append(segs, compartment...)
	}
	if resourceType != "" {
		if err := checkType(resourceType); err != nil {
			return call{}, err
		}
		segs = append(segs, resourceType)
	}
	vals := q.Values()
	post := call{method: http.MethodPost, url: c.url(nil, append(segs, "_search")...),
		body: []byte(vals.Encode()), ctype: "application/x-www-form-urlencoded", safe: true}
	get := call{method: http.MethodGet, url: c.url(vals, segs...)}
	if usePost || len(get.url) > maxSearchURL {
		return post, nil
	}
	get.alt = &post
	return get, nil
}

// doSearch sends a page request; a search by GET that a server or a proxy
// refuses as too long (414) is sent again as its POST form.
func (c *Conn) doSearch(ctx context.Context, k call) (*reply, error) {
	r, err := c.do(ctx, k)
	var fe *Error
	if k.alt != nil && errors.As(err, &fe) && fe.StatusCode == http.StatusRequestURITooLong {
		return c.do(ctx, *k.alt)
	}
	return r, err
}
