package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// PatchOp is one JSON Patch (RFC 6902) operation.
type PatchOp struct {
	Op    string `json:"op"` // add, remove, replace, move, copy, test
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
	From  string `json:"from,omitempty"`
}

// patchType is the Content-Type of a JSON Patch body.
const patchType = "application/json-patch+json"

// Patch applies a JSON Patch to a resource: PATCH [type]/[id] with
// Content-Type application/json-patch+json. Use [IfMatch] to lock: a
// resource changed meanwhile gives an error matching
// rest.ErrPreconditionFailed.
func Patch[T any](ctx context.Context, c *Conn, id string, ops []PatchOp, opts ...WriteOption) (*Result[T], error) {
	rt, err := modelType[T]()
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	return patch[T](ctx, c, c.url(nil, rt, id), ops, opts)
}

// PatchWhere is a conditional patch: PATCH [type]?[q] applies the JSON
// Patch to the single resource matching q. The server answers 412 when
// several match (the error matches rest.ErrPreconditionFailed) and 404
// when none does (rest.ErrNotFound). q must hold at least one search
// parameter: an empty one is refused before anything is sent.
func PatchWhere[T any](ctx context.Context, c *Conn, q *Query, ops []PatchOp, opts ...WriteOption) (*Result[T], error) {
	rt, err := modelType[T]()
	if err != nil {
		return nil, err
	}
	v := q.Values()
	if len(v) == 0 {
		return nil, fmt.Errorf("fhir: %s: conditional patch of %s needs search parameters", c.name, rt)
	}
	return patch[T](ctx, c, c.url(v, rt), ops, opts)
}

func patch[T any](ctx context.Context, c *Conn, url string, ops []PatchOp, opts []WriteOption) (*Result[T], error) {
	body, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("fhir: %s: encoding patch: %w", c.name, err)
	}
	o := apply(opts)
	return write[T](ctx, c, call{method: http.MethodPatch, url: url, body: body, ctype: patchType, header: o.headers("")})
}
