package fhir

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/rest"
)

// Operation invokes $name with a Parameters body (POST). target is "" for a
// system operation, a type ("Patient") or an instance ("Patient/123"). The
// result is decoded by [DecodeResource] (often *models.Parameters or
// *models.Bundle); nil when the server returned no body.
func (c *Conn) Operation(ctx context.Context, target, name string, in *models.Parameters) (any, error) {
	segs, err := opPath(target, name)
	if err != nil {
		return nil, err
	}
	if in == nil {
		in = &models.Parameters{}
	}
	body, err := marshal(*in)
	if err != nil {
		return nil, err
	}
	r, err := c.do(ctx, call{method: http.MethodPost, url: c.url(nil, segs...), body: body})
	if err != nil {
		return nil, err
	}
	return decodeOptional(r.body, c.owned())
}

// OperationGet invokes $name with GET and simple parameters in the query
// (for operations without side effects, such as $everything or $lookup).
func (c *Conn) OperationGet(ctx context.Context, target, name string, q *Query) (any, error) {
	segs, err := opPath(target, name)
	if err != nil {
		return nil, err
	}
	r, err := c.do(ctx, call{method: http.MethodGet, url: c.url(q.Values(), segs...)})
	if err != nil {
		return nil, err
	}
	return decodeOptional(r.body, c.owned())
}

func opPath(target, name string) ([]string, error) {
	name = strings.TrimPrefix(name, "$")
	if err := checkID("operation", name); err != nil {
		return nil, err
	}
	var segs []string
	if target != "" {
		segs = strings.Split(strings.Trim(target, "/"), "/")
		if len(segs) > 2 {
			return nil, fmt.Errorf("fhir: invalid operation target %q: %w", target, rest.ErrBadPath)
		}
		if err := checkType(segs[0]); err != nil {
			return nil, err
		}
		if len(segs) == 2 {
			if err := checkID("id", segs[1]); err != nil {
				return nil, err
			}
		}
	}
	return append(segs, "$"+name), nil
}

func decodeOptional(body []byte, dc decoding) (any, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil
	}
	return decodeResource(body, dc)
}

// Ping is a health check: the server answers GET [base]/metadata with a
// CapabilityStatement. Only the resource type is checked. Every Ping
// sends a request: it neither uses nor changes the statement that
// [Conn.Capabilities] keeps.
func (c *Conn) Ping(ctx context.Context) error {
	r, err := c.do(ctx, call{method: http.MethodGet, url: c.url(nil, "metadata")})
	if err != nil {
		return err
	}
	rt, err := resourceTypeOf(r.body)
	if err != nil {
		return err
	}
	if rt != "CapabilityStatement" {
		return notCapabilities(c.name, rt)
	}
	return nil
}
