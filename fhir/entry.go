package fhir

import (
	"errors"
	"fmt"
	"strings"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Entry is one entry of a Bundle the server sent: the result of one
// entry of a transaction or batch ([Conn.Transaction], [Conn.Batch]), one
// version in a history ([Conn.History]) or one resource of $everything
// ([Conn.Everything]). Each kind fills what its Bundle carries.
type Entry struct {
	// Resource is the entry's resource decoded by [DecodeResource]
	// (*models.Patient, …); nil when the entry has none (a deletion in a
	// history, a write answered with Prefer: return=minimal) or when it
	// did not decode (then Err says why).
	Resource any
	// Err is a resource that did not decode (a *[DecodeError]) or a
	// response.status that is no HTTP status (Status is then 0), naming
	// the page and the entry. It is the entry's own failure; the iteration
	// (or the transaction, which the server has already committed) goes
	// on. A failure of the call itself is the iteration's error, never
	// an Entry's.
	Err       error
	FullURL   string
	ID        string // the resource's id: from response.location, the resource or request.url
	VersionID string // from response.etag, response.location …/_history/n or meta.versionId
	// Method is, in a history, the interaction that made this version
	// (POST, PUT, PATCH or DELETE); "" elsewhere.
	Method       string
	Status       int       // response.status: 201, 200, 204, 404… (0 when the entry has no response, or Err says its status is none)
	Location     string    // response.location
	LastModified time.Time // response.lastModified, else meta.lastUpdated; zero when neither
	Issues       []Issue   // response.outcome: why a batch entry failed, or warnings
}

// entryOf reads one Bundle entry; n and i name the page and the entry in
// a decode error.
func (c *Conn) entryOf(e *models.BundleEntry, n, i int) *Entry {
	out := &Entry{}
	if e.FullUrl != nil {
		out.FullURL = *e.FullUrl
	}
	if e.Request != nil {
		out.Method = e.Request.Method.Code()
		out.ID, _ = parseLocation(strings.SplitN(e.Request.Url, "?", 2)[0])
		if e.Request.Method == models.HTTPVerbPOST {
			out.ID = "" // POST [type]: the id is the server's
		}
	}
	if r := e.Response; r != nil {
		var ok bool
		if out.Status, ok = statusCode(r.Status); !ok {
			out.Err = c.entryError(n, i, fmt.Errorf("response.status %q is not an HTTP status", oneLine(r.Status, 40)))
		}
		if r.Location != nil {
			out.Location = *r.Location
			out.ID, out.VersionID = parseLocation(out.Location)
		}
		if r.Etag != nil && parseETag(*r.Etag) != "" {
			out.VersionID = parseETag(*r.Etag)
		}
		if r.LastModified != nil {
			out.LastModified, _ = time.Parse(time.RFC3339, *r.LastModified)
		}
		out.Issues = allIssues(r.Outcome)
	}
	if len(e.Resource) == 0 {
		return out
	}
	v, err := decodeResource(e.Resource, c.dec)
	if err != nil {
		if err = c.entryError(n, i, err); out.Err != nil {
			err = errors.Join(out.Err, err) // its status too
		}
		out.Err = err
	}
	out.Resource = v
	if id, err := identify(e.Resource); err == nil {
		if out.ID == "" {
			out.ID = id.ID
		}
		if out.VersionID == "" {
			out.VersionID = id.Meta.VersionID
		}
		if t, err := time.Parse(time.RFC3339, id.Meta.LastUpdated); err == nil && out.LastModified.IsZero() {
			out.LastModified = t
		}
	}
	return out
}

// entries yields the entries of pages, one by one; each range starts
// again at the first page.
func (c *Conn) entries(pages func(yield func(*models.Bundle, error) bool)) func(yield func(*Entry, error) bool) {
	return func(yield func(*Entry, error) bool) {
		n := 0
		for b, err := range pages {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
			for i := range b.Entry {
				if !yield(c.entryOf(&b.Entry[i], n, i), nil) {
					return
				}
			}
		}
	}
}
