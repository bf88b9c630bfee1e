package fhir

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"time"
)

// Versioned is a resource as read, with the version metadata the server
// sent beside it. Keep it to read the resource again cheaply ([Refresh])
// or to lock a later write ([IfMatch] with its VersionID or ETag).
type Versioned[T any] struct {
	Resource     *T
	ID           string    // the id that was read
	VersionID    string    // meta.versionId, else the version of the ETag
	ETag         string    // the ETag header as sent (W/"3" or "3"); "" when none
	LastModified time.Time // the Last-Modified header, else meta.lastUpdated; zero when neither
	// NotModified is true when a conditional read got 304 Not Modified:
	// the server sent no resource. [Refresh] then returns the caller's
	// copy; [ReadMeta] leaves Resource nil.
	NotModified bool
}

// readOpts are the conditions of a [Refresh].
type readOpts struct {
	ifNoneMatch     string
	ifModifiedSince time.Time
}

func (o readOpts) header() http.Header {
	h := http.Header{}
	if o.ifNoneMatch != "" {
		h.Set("If-None-Match", entityTag(o.ifNoneMatch))
	}
	if !o.ifModifiedSince.IsZero() {
		h.Set("If-Modified-Since", o.ifModifiedSince.UTC().Format(http.TimeFormat))
	}
	return h
}

// ReadMeta reads the current version of a resource (GET [type]/[id]) with
// its version metadata: meta.versionId or the ETag, and Last-Modified;
// [Refresh] reads it again only if it changed. Errors are those of [Read]
// (rest.ErrNotFound, rest.ErrGone…).
//
// Resources are exchanged as JSON (application/fhir+json) only, so no
// _format parameter is ever needed.
func ReadMeta[T any](ctx context.Context, c *Conn, id string) (*Versioned[T], error) {
	return readMeta[T](ctx, c, id, readOpts{})
}

// readMeta is [ReadMeta], conditional when o says so: a 304 Not Modified
// is no error but a result with NotModified set and no Resource.
func readMeta[T any](ctx context.Context, c *Conn, id string, o readOpts) (*Versioned[T], error) {
	rt, err := modelType[T]()
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	r, err := c.do(ctx, call{method: http.MethodGet, url: c.url(nil, rt, id), header: o.header()})
	if err != nil {
		return nil, err
	}
	v := &Versioned[T]{ID: id, ETag: r.header.Get("ETag"), VersionID: parseETag(r.header.Get("ETag"))}
	v.LastModified, _ = http.ParseTime(r.header.Get("Last-Modified"))
	if r.status == http.StatusNotModified {
		v.NotModified = true
		return v, nil
	}
	if v.Resource, err = decode[T](r.body, c.owned()); err != nil {
		return nil, err
	}
	if meta, err := identify(r.body); err == nil {
		if meta.Meta.VersionID != "" {
			v.VersionID = meta.Meta.VersionID
		}
		if t, err := time.Parse(time.RFC3339, meta.Meta.LastUpdated); err == nil && v.LastModified.IsZero() {
			v.LastModified = t
		}
	}
	return v, nil
}

// Refresh reads prev's resource again, conditionally: If-None-Match with
// prev's ETag (or its VersionID) and If-Modified-Since with its
// LastModified (an ETag as a server sent it, W/"3" or "3", or a bare
// version id "3"; servers ignore If-Modified-Since when If-None-Match is
// also sent). When the server answers 304 Not Modified, Refresh returns
// a copy of prev with NotModified set, whose Resource is prev.Resource
// (the same pointer); otherwise it returns the new version as [ReadMeta]
// does. This is the cheap way to keep a local copy current.
func Refresh[T any](ctx context.Context, c *Conn, prev *Versioned[T]) (*Versioned[T], error) {
	if prev == nil || prev.Resource == nil {
		return nil, fmt.Errorf("fhir: %s: refresh needs a previous read with its resource", c.name)
	}
	o := readOpts{ifNoneMatch: cmp.Or(prev.ETag, prev.VersionID), ifModifiedSince: prev.LastModified}
	v, err := readMeta[T](ctx, c, prev.ID, o)
	if err != nil || !v.NotModified {
		return v, err
	}
	cp := *prev
	cp.NotModified = true
	return &cp, nil
}
