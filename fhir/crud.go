package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/tokenwire/tokenwire/rest"
)

// Result is what a create, update or patch returned.
type Result[T any] struct {
	Resource  *T      // the server's representation; nil when it sent none
	ID        string  // from Location (or the representation)
	VersionID string  // from ETag W/"n" (or Location …/_history/n)
	Location  string  // the Location or Content-Location header
	Status    int     // 201 Created; 200 OK for an update or a matched conditional create
	Issues    []Issue // the OperationOutcome sent instead (ReturnOutcome), else nil
}

// WriteOption adjusts a create, update or patch.
type WriteOption func(*writeOpts)

type writeOpts struct {
	ifNoneExist *Query
	ifMatch     string
	unlocked    bool   // IfMatch("")
	prefer      string // the Prefer return= value; "" is representation
}

// IfNoneExist makes a create conditional: the server creates the resource
// only if no resource matches q (If-None-Exist).
func IfNoneExist(q *Query) WriteOption { return func(o *writeOpts) { o.ifNoneExist = q } }

// IfMatch makes an update, patch or delete conditional on the version:
// If-Match: W/"versionID" (an update sends the resource's meta.versionId
// by itself; IfMatch overrides it). versionID may also be an ETag as a
// server sent it (W/"3" or "3", such as [Versioned].ETag), which is sent
// as it is. When the resource has changed meanwhile the server answers 412
// and the error matches rest.ErrPreconditionFailed. IfMatch("") sends an
// update without If-Match even when the resource carries meta.versionId
// (last writer wins).
func IfMatch(versionID string) WriteOption {
	return func(o *writeOpts) { o.ifMatch, o.unlocked = versionID, versionID == "" }
}

// ReturnMinimal asks the server not to send the resource back
// (Prefer: return=minimal instead of return=representation).
func ReturnMinimal() WriteOption { return func(o *writeOpts) { o.prefer = "minimal" } }

// ReturnOutcome asks the server for an OperationOutcome instead of the
// resource (Prefer: return=OperationOutcome); its issues (warnings,
// information) are in [Result].Issues.
func ReturnOutcome() WriteOption { return func(o *writeOpts) { o.prefer = "OperationOutcome" } }

func (o *writeOpts) headers(version string) http.Header {
	h := http.Header{}
	prefer := o.prefer
	if prefer == "" {
		prefer = "representation"
	}
	h.Set("Prefer", "return="+prefer)
	if o.ifNoneExist != nil {
		h.Set("If-None-Exist", o.ifNoneExist.Values().Encode())
	}
	switch {
	case o.ifMatch != "":
		h.Set("If-Match", entityTag(o.ifMatch))
	case version != "" && !o.unlocked:
		h.Set("If-Match", entityTag(version))
	}
	return h
}

// entityTag is the ETag of a version id (W/"3"); a value that already is
// an entity tag (W/"3", "3") is kept as it is.
func entityTag(v string) string {
	if v == "*" || strings.HasPrefix(v, `W/"`) || strings.HasPrefix(v, `"`) { // * matches any version
		return v
	}
	return `W/"` + v + `"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// checkID refuses an id that is no FHIR id before anything is sent; the
// error wraps [rest.ErrBadPath], the caller's bad request (a service
// answers it with 400), whatever the function that was given the id.
func checkID(kind, id string) error {
	if !idPattern.MatchString(id) || strings.Trim(id, ".") == "" {
		// "." and ".." would be path segments, not ids: behind a front end
		// that cleans paths, DELETE Patient/. deletes Patient.
		return fmt.Errorf("fhir: invalid %s %s (want 1-64 of A-Z a-z 0-9 - ., not only dots): %w", kind, quoted(id, 80), rest.ErrBadPath)
	}
	return nil
}

func checkType(rt string) error {
	if rt == "" || !idPattern.MatchString(rt) || strings.Contains(rt, ".") {
		return fmt.Errorf("fhir: invalid resource type %s: %w", quoted(rt, 80), rest.ErrBadPath)
	}
	return nil
}

func modelType[T any]() (string, error) {
	rt := typeName[T]()
	if rt == "" {
		var zero T
		return "", fmt.Errorf("fhir: %T is not a FHIR model type", zero)
	}
	return rt, nil
}

// Read reads the current version of a resource: GET [type]/[id]. A deleted
// resource gives an error matching rest.ErrGone, a missing one rest.ErrNotFound.
func Read[T any](ctx context.Context, c *Conn, id string) (*T, error) {
	return VRead[T](ctx, c, id, "")
}

// VRead reads one version of a resource: GET [type]/[id]/_history/[vid].
func VRead[T any](ctx context.Context, c *Conn, id, versionID string) (*T, error) {
	rt, err := modelType[T]()
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	segs := []string{rt, id}
	if versionID != "" {
		if err := checkID("version", versionID); err != nil {
			return nil, err
		}
		segs = append(segs, "_history", versionID)
	}
	r, err := c.do(ctx, call{method: http.MethodGet, url: c.url(nil, segs...)})
	if err != nil {
		return nil, err
	}
	return decode[T](r.body, c.owned())
}

// get reads any resource by its path relative to the base URL (such as
// "Patient/123" or "Binary/7/_history/2"), decoded by [DecodeResource]:
// the read of [Conn.Resolve].
func (c *Conn) get(ctx context.Context, path string, q *Query) (any, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if i == 2 && len(segs) == 4 && s == "_history" {
			continue // Type/id/_history/vid
		}
		if err := checkID("path segment", strings.TrimPrefix(s, "$")); err != nil {
			return nil, err
		}
	}
	r, err := c.do(ctx, call{method: http.MethodGet, url: c.url(q.Values(), segs...)})
	if err != nil {
		return nil, err
	}
	return decodeResource(r.body, c.owned())
}

// identity is what a marshalled resource says about itself.
type identity struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Meta         *identityMeta `json:"meta"`
}

type identityMeta struct {
	VersionID   string `json:"versionId"`
	LastUpdated string `json:"lastUpdated"`
}

func identify(body []byte) (identity, error) {
	var id identity
	if err := json.Unmarshal(body, &id); err != nil {
		return id, fmt.Errorf("fhir: reading resource identity: %w", err)
	}
	if id.Meta == nil {
		id.Meta = &identityMeta{}
	}
	return id, checkType(id.ResourceType)
}

// Create creates a resource: POST [type] with Prefer: return=representation.
// With [IfNoneExist] the create is conditional; a match gives Status 200.
func Create[T any](ctx context.Context, c *Conn, res *T, opts ...WriteOption) (*Result[T], error) {
	body, id, err := encode(res)
	if err != nil {
		return nil, err
	}
	o := apply(opts)
	return write[T](ctx, c, call{method: http.MethodPost, url: c.url(nil, id.ResourceType), body: body, header: o.headers("")})
}

// Update replaces a resource: PUT [type]/[id]. When the resource carries
// meta.versionId it is sent as If-Match (optimistic locking): a concurrent
// change gives an error matching rest.ErrPreconditionFailed (or rest.ErrConflict).
func Update[T any](ctx context.Context, c *Conn, res *T, opts ...WriteOption) (*Result[T], error) {
	body, id, err := encode(res)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id.ID); err != nil {
		return nil, err
	}
	o := apply(opts)
	return write[T](ctx, c, call{method: http.MethodPut, url: c.url(nil, id.ResourceType, id.ID), body: body, header: o.headers(id.Meta.VersionID)})
}

// UpdateWhere is a conditional update: PUT [type]?[q]. The server updates the
// single match, creates the resource when none matches, and fails with 412
// when several match.
func UpdateWhere[T any](ctx context.Context, c *Conn, res *T, q *Query, opts ...WriteOption) (*Result[T], error) {
	body, id, err := encode(res)
	if err != nil {
		return nil, err
	}
	o := apply(opts)
	return write[T](ctx, c, call{method: http.MethodPut, url: c.url(q.Values(), id.ResourceType), body: body, header: o.headers(id.Meta.VersionID)})
}

// Delete deletes a resource: DELETE [type]/[id]. Deleting a missing or
// already deleted resource is not an error on most servers. With
// [IfMatch] the delete is conditional on the version: a resource changed
// meanwhile gives an error matching rest.ErrPreconditionFailed. Other
// write options do not apply to a delete and are ignored.
func (c *Conn) Delete(ctx context.Context, resourceType, id string, opts ...WriteOption) error {
	if err := checkType(resourceType); err != nil {
		return err
	}
	if err := checkID("id", id); err != nil {
		return err
	}
	var h http.Header
	if o := apply(opts); o.ifMatch != "" {
		h = http.Header{"If-Match": {entityTag(o.ifMatch)}}
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, url: c.url(nil, resourceType, id), header: h})
	return err
}

// DeleteWhere is a conditional delete: DELETE [type]?[q].
func (c *Conn) DeleteWhere(ctx context.Context, resourceType string, q *Query) error {
	if err := checkType(resourceType); err != nil {
		return err
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, url: c.url(q.Values(), resourceType)})
	return err
}

func apply(opts []WriteOption) *writeOpts {
	o := &writeOpts{}
	for _, f := range opts {
		f(o)
	}
	return o
}

func encode(res any) ([]byte, identity, error) {
	body, err := marshal(res)
	if err != nil {
		return nil, identity{}, err
	}
	id, err := identify(body)
	return body, id, err
}
