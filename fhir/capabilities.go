package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// systemInteractions are the interactions of
// CapabilityStatement.rest.interaction: the others are on a resource type.
var systemInteractions = map[string]bool{"transaction": true, "batch": true, "search-system": true, "history-system": true}

// Capabilities returns the server's CapabilityStatement (GET
// [base]/metadata). The statement is read once per connection and kept
// (see [Conn.Supports]); each call decodes its own copy, so the caller
// may change it. A statement that does not fit the model (an unknown code
// anywhere) gives a *[DecodeError] here, while [Conn.Supports] and
// [Conn.FHIRVersion] still answer from it.
func (c *Conn) Capabilities(ctx context.Context) (*models.CapabilityStatement, error) {
	sc, err := c.serverCaps(ctx, false)
	if err != nil {
		return nil, err
	}
	return decode[models.CapabilityStatement](sc.body, c.dec)
}

// FHIRVersion returns the server's FHIR version (CapabilityStatement
// fhirVersion, such as "4.0.1").
func (c *Conn) FHIRVersion(ctx context.Context) (string, error) {
	sc, err := c.serverCaps(ctx, false)
	if err != nil {
		return "", err
	}
	return sc.version, nil
}

// Supports reports whether the server's CapabilityStatement lists the
// interaction, coded as the statement codes it: "read", "vread",
// "update", "patch", "delete", "history-instance", "history-type",
// "create", "search-type" in the rest.resource entry of resourceType;
// the system-wide "transaction", "batch", "search-system" and
// "history-system" in rest.interaction, whatever resourceType is. An
// operation is asked for by its name with the dollar ("$everything"):
// in the rest.resource entry of resourceType, or in rest.operation when
// resourceType is "". The statement is read from metadata on the first
// call of Supports, [Conn.Capabilities] or [Conn.FHIRVersion] and kept
// for the life of the connection: concurrent first callers share one
// request, and a read that fails is not kept, so the next call tries
// again. Codes are compared as strings, so codes this package does not
// know never break it.
func (c *Conn) Supports(ctx context.Context, resourceType, interaction string) (bool, error) {
	sc, err := c.serverCaps(ctx, false)
	if err != nil {
		return false, err
	}
	if op, ok := strings.CutPrefix(interaction, "$"); ok {
		if resourceType == "" {
			return sc.system.operations[op], nil
		}
		return sc.types[resourceType].operations[op], nil
	}
	if systemInteractions[interaction] || resourceType == "" {
		return sc.system.interactions[interaction], nil
	}
	return sc.types[resourceType].interactions[interaction], nil
}

// serverCaps is what a connection keeps of its server's CapabilityStatement.
type serverCaps struct {
	body    []byte
	version string
	system  capSet
	types   map[string]capSet
}

// capSet is what the statement lists for the system or one resource type.
type capSet struct {
	interactions map[string]bool
	operations   map[string]bool
}

// capWire is the part of a CapabilityStatement that Supports reads, with
// codes as strings: unknown codes, and everything else, never fail it.
type capWire struct {
	ResourceType string `json:"resourceType"`
	FhirVersion  string `json:"fhirVersion"`
	Rest         []struct {
		Mode     string `json:"mode"`
		Resource []struct {
			Type string `json:"type"`
			capWireSet
		} `json:"resource"`
		capWireSet
	} `json:"rest"`
}

type capWireSet struct {
	Interaction []struct {
		Code string `json:"code"`
	} `json:"interaction"`
	Operation []struct {
		Name string `json:"name"`
	} `json:"operation"`
}

func (w capWireSet) addTo(s *capSet) {
	if s.interactions == nil {
		s.interactions, s.operations = map[string]bool{}, map[string]bool{}
	}
	for _, i := range w.Interaction {
		s.interactions[i.Code] = true
	}
	for _, o := range w.Operation {
		s.operations[strings.TrimPrefix(o.Name, "$")] = true
	}
}

// readCaps reads metadata and parses what serverCaps keeps.
func (c *Conn) readCaps(ctx context.Context) (*serverCaps, error) {
	r, err := c.do(ctx, call{method: http.MethodGet, url: c.url(nil, "metadata")})
	if err != nil {
		return nil, err
	}
	var w capWire
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal(r.body, &w); err != nil && !errors.As(err, &te) {
		return nil, fmt.Errorf("fhir: %s: metadata is not JSON: %w", c.name, err)
	}
	if w.ResourceType != "CapabilityStatement" {
		return nil, notCapabilities(c.name, w.ResourceType)
	}
	sc := &serverCaps{body: r.body, version: w.FhirVersion, types: map[string]capSet{}}
	sc.system.interactions, sc.system.operations = map[string]bool{}, map[string]bool{}
	for _, rs := range w.Rest {
		if rs.Mode != "" && rs.Mode != "server" {
			continue
		}
		rs.addTo(&sc.system)
		for _, res := range rs.Resource {
			set := sc.types[res.Type]
			res.addTo(&set)
			sc.types[res.Type] = set
		}
	}
	return sc, nil
}

func notCapabilities(conn, rt string) error {
	if rt == "" {
		return fmt.Errorf("fhir: %s: metadata returned a resource without resourceType, not a CapabilityStatement", conn)
	}
	return fmt.Errorf("fhir: %s: metadata returned %s, not a CapabilityStatement", conn, quoted(rt, 64))
}
