package fhirtest

import (
	"maps"
	"net/http"
	"slices"
)

// builtinOp serves the operations the server implements itself:
// $validate on any type or instance, and the terminology operations
// ($expand, $lookup, $validate-code, $translate); false when name is none
// of them. An operation registered with WithOperation comes first.
func (s *Server) builtinOp(w http.ResponseWriter, r *http.Request, target, name string) bool {
	var err error
	handled := true
	if name == "validate" {
		err = s.validate(w, r, target)
	} else {
		handled, err = s.terminologyOp(w, r, target, name)
	}
	if err != nil {
		writeError(w, err)
	}
	return handled
}

// typeOperations are the operations the server implements by resource
// type, as its CapabilityStatement lists them.
var typeOperations = map[string][]string{
	"ValueSet":   {"expand", "validate-code"},
	"CodeSystem": {"lookup", "validate-code"},
	"ConceptMap": {"translate"},
}

// addOperations lists $validate on every resource type of the statement
// and adds the terminology types with their operations.
func addOperations(caps map[string]any) map[string]any {
	rest := caps["rest"].([]any)[0].(map[string]any)
	res, _ := rest["resource"].([]any)
	for _, typ := range slices.Sorted(maps.Keys(typeOperations)) {
		res = append(res, map[string]any{"type": typ, "interaction": []any{map[string]any{"code": "read"},
			map[string]any{"code": "create"}, map[string]any{"code": "update"}, map[string]any{"code": "search-type"}}})
	}
	for _, r := range res {
		r := r.(map[string]any)
		ops, _ := r["operation"].([]any)
		typ := r["type"].(string)
		ops = append(ops, map[string]any{"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"})
		for _, name := range typeOperations[typ] {
			ops = append(ops, map[string]any{"name": name, "definition": "http://hl7.org/fhir/OperationDefinition/" + typ + "-" + name})
		}
		r["operation"] = ops
	}
	rest["resource"] = res
	return caps
}
