package fhirtest

import "net/http"

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
