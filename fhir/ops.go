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
// *models.Bundle); nil when the server returned no body. POST is the form
// every operation accepts (FHIR allows GET only for some); the typed
// operations ([Validate], [Conn.Expand], [Conn.Lookup],
// [Conn.ValidateCode], [Conn.Translate]) choose their form themselves.
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
// CapabilityStatement. Every Ping reads it afresh (a Ping while another
// read is under way shares it) and, when it succeeds, keeps it as the
// statement that [Conn.Capabilities] and [Conn.Supports] answer from: the
// periodic Ping of a readiness check keeps the connection's view of its
// server current. On failure the statement read before, if any, stays in
// use.
func (c *Conn) Ping(ctx context.Context) error {
	_, err := c.serverCaps(ctx, true)
	return err
}
