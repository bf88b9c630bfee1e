package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// validationStatuses are the error statuses with which servers answer a
// $validate of an invalid resource (most answer 200): the
// OperationOutcome they carry is the validation result, not a failure.
var validationStatuses = map[int]bool{
	http.StatusBadRequest:          true,
	http.StatusPreconditionFailed:  true,
	http.StatusUnprocessableEntity: true,
}

// Validate asks the server whether res is valid ($validate): against the
// base specification and the server's rules, and against the
// StructureDefinition profile (a canonical URL) when profile is not "".
// The server's OperationOutcome comes back as issues, each with its
// severity, code, diagnostics, expression and location; valid is true
// when none has severity "error" or "fatal" (warnings may remain).
//
// mode is one of the spec's: "" (general validation) and "create" send
// POST [type]/$validate; "update" (res as an update of the stored
// resource) and "delete" (could the resource be deleted? res need hold
// only its id) send POST [type]/[id]/$validate. Without mode and profile
// the body is the resource itself, otherwise a Parameters resource.
//
// An invalid resource is no error: err is the failure of the call itself
// (the request failed, the server does not support $validate, an
// instance to update or delete is unknown). A server that answers an
// invalid resource with 400, 412 or 422 and an OperationOutcome (some do)
// is read as one that answers 200, up to its first 20 issues (see
// [Error]); valid weighs them all, kept or not.
//
//	valid, issues, err := fhir.Validate(ctx, ehr, patient, "", "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient")
func Validate[T any](ctx context.Context, c *Conn, res *T, mode, profile string) (valid bool, issues []Issue, err error) {
	if res == nil {
		return false, nil, fmt.Errorf("fhir: %s: validate: nil resource", c.name)
	}
	k, err := c.validateCall(res, mode, profile)
	if err != nil {
		return false, nil, err
	}
	r, err := c.do(ctx, k)
	if fe := (*Error)(nil); errors.As(err, &fe) && validationStatuses[fe.StatusCode] && len(fe.Issues) > 0 {
		return verdict(fe.Issues) && !fe.severeMore, fe.Issues, nil
	}
	if err != nil {
		return false, nil, err
	}
	issues, _ = parseIssues(r.body, -1)
	if issues == nil {
		rt, _ := resourceTypeOf(r.body)
		return false, nil, fmt.Errorf("fhir: %s: $validate returned %s, not an OperationOutcome", c.name, quoted(rt, 64))
	}
	return verdict(issues), issues, nil
}

// validateCall builds the request of a $validate.
func (c *Conn) validateCall(res any, mode, profile string) (call, error) {
	body, id, err := encode(res)
	if err != nil {
		return call{}, err
	}
	segs := []string{id.ResourceType}
	switch mode {
	case "", "create":
	case "update", "delete":
		if err := checkID("id", id.ID); err != nil {
			return call{}, fmt.Errorf("fhir: %s: validate %s: the resource needs its id: %w", c.name, mode, err)
		}
		segs = append(segs, id.ID)
	default:
		return call{}, fmt.Errorf("fhir: %s: validate: mode %q is none of create, update, delete", c.name, mode)
	}
	segs = append(segs, "$validate")
	if mode == "" && profile == "" {
		return call{method: http.MethodPost, url: c.url(nil, segs...), body: body}, nil
	}
	var in models.Parameters
	if mode != "delete" {
		in.Parameter = append(in.Parameter, models.ParametersParameter{Name: "resource", Resource: body})
	}
	if mode != "" {
		in.Parameter = append(in.Parameter, models.ParametersParameter{Name: "mode", ValueCode: &mode})
	}
	if profile != "" {
		in.Parameter = append(in.Parameter, models.ParametersParameter{Name: "profile", ValueUri: &profile})
	}
	pb, err := marshal(in)
	if err != nil {
		return call{}, err
	}
	return call{method: http.MethodPost, url: c.url(nil, segs...), body: pb}, nil
}

// verdict is true when no issue is an error.
func verdict(issues []Issue) bool {
	for _, is := range issues {
		if is.Severity == "error" || is.Severity == "fatal" {
			return false
		}
	}
	return true
}
