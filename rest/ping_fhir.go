package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// errNoResourceType is a metadata answer that is no FHIR resource.
var errNoResourceType = errors.New("not a FHIR resource (no resourceType)")

// pingFHIR sends GET [base]/metadata and checks that the answer is a
// CapabilityStatement. It speaks just enough FHIR for a health check:
// package fhir has the protocol (fhir.Conn.Ping is this check with its
// typed errors).
func (c *Conn) pingFHIR(ctx context.Context) error {
	u, err := joinURL(c.base, "metadata", nil)
	if err != nil {
		return &Error{Conn: c.name, Method: http.MethodGet, URL: c.red.url(c.base) + " + metadata", Err: err}
	}
	resp, attempts, err := c.pingSend(ctx, http.MethodGet, u, "application/fhir+json")
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.statusError(resp, attempts)
	}
	defer drain(resp)
	rt, err := resourceType(io.LimitReader(resp.Body, MaxJSONBody))
	if err == nil && rt != "CapabilityStatement" {
		err = fmt.Errorf("not a CapabilityStatement (resourceType %q)", cut(c.red.text(rt), 64))
	}
	if err != nil {
		return &Error{Conn: c.name, Method: http.MethodGet, URL: c.red.url(u), StatusCode: resp.StatusCode, Attempts: attempts,
			Err: fmt.Errorf("metadata: %w", err)}
	}
	return nil
}

// resourceType reads the resourceType of the JSON object r holds, token by
// token: the other members are skipped, never kept.
func resourceType(r io.Reader) (string, error) {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", errors.New("not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", errNoResourceType
		}
		if t == "resourceType" {
			v, err := dec.Token()
			s, ok := v.(string)
			if err != nil || !ok {
				return "", errors.New("resourceType is not a string")
			}
			return s, nil
		}
		if err := skipJSON(dec); err != nil {
			return "", errNoResourceType
		}
	}
	return "", errNoResourceType
}

// skipJSON reads past the next value of dec.
func skipJSON(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
