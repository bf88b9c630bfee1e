package fhirtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// required lists the elements the base specification requires (min 1)
// of the resource types the server checks; "x[x]" is a choice element.
var required = map[string][]string{
	"Observation":        {"status", "code"},
	"Encounter":          {"status", "class"},
	"Condition":          {"subject"},
	"MedicationRequest":  {"status", "intent", "medication[x]", "subject"},
	"DiagnosticReport":   {"status", "code"},
	"Procedure":          {"status", "subject"},
	"AllergyIntolerance": {"patient"},
	"Immunization":       {"status", "vaccineCode", "patient", "occurrence[x]"},
}

// codes lists, by resource type and element, the codes of a required
// binding the server checks.
var codes = map[string]map[string][]string{
	"Patient": {"gender": {"male", "female", "other", "unknown"}},
	"Observation": {"status": {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
		"entered-in-error", "unknown"}},
	"Encounter": {"status": {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
		"entered-in-error", "unknown"}},
	"MedicationRequest": {"status": {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped",
		"draft", "unknown"}, "intent": {"proposal", "plan", "order", "original-order", "reflex-order",
		"filler-order", "instance-order", "option"}},
}

// profile is what the server checks of a profile it knows: a subset of
// the profile's rules (its required elements).
type profile struct {
	typ      string
	required []string
}

// profiles are the profiles the server knows, by canonical URL.
var profiles = map[string]profile{
	"http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient": {"Patient", []string{"identifier", "name", "gender"}},
	"http://hl7.org/fhir/StructureDefinition/vitalsigns":              {"Observation", []string{"category", "subject", "effective[x]"}},
}

// validateIn is what a $validate request asked.
type validateIn struct {
	resource []byte
	mode     string
	profile  string
}

// validate serves $validate (POST [type]/$validate and POST
// [type]/[id]/$validate): the resource is checked against the rules
// above and the profile asked for, and the outcome is answered with 200
// whether the resource is valid or not, as most servers do.
func (s *Server) validate(w http.ResponseWriter, r *http.Request, target string) error {
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, "not-supported", "$validate needs POST")
	}
	typ, id, _ := strings.Cut(target, "/")
	if !typePattern.MatchString(typ) {
		return fail(http.StatusBadRequest, "invalid", "$validate needs a resource type")
	}
	body, err := readBody(r)
	if err != nil {
		return fail(http.StatusBadRequest, "invalid", "%v", err)
	}
	in, err := validateInput(body)
	if err != nil {
		return err
	}
	issues, err := s.checkMode(typ, id, in)
	if err != nil {
		return err
	}
	if in.mode != "delete" {
		issues = append(issues, checkResource(typ, in.resource, in.profile)...)
	}
	if len(issues) == 0 {
		issues = []any{issue("information", "informational", "no issues detected", "")}
	}
	writeJSON(w, http.StatusOK, map[string]any{"resourceType": "OperationOutcome", "issue": issues})
	return nil
}

// validateInput reads the body of a $validate: a resource, or a
// Parameters resource with resource, mode and profile.
func validateInput(body []byte) (validateIn, error) {
	var doc struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name      string          `json:"name"`
			ValueCode string          `json:"valueCode"`
			ValueURI  string          `json:"valueUri"`
			ValueCan  string          `json:"valueCanonical"`
			Resource  json.RawMessage `json:"resource"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return validateIn{}, fail(http.StatusBadRequest, "structure", "the body is not a JSON resource: %v", err)
	}
	if doc.ResourceType != "Parameters" {
		return validateIn{resource: body}, nil
	}
	var in validateIn
	for _, p := range doc.Parameter {
		switch p.Name {
		case "resource":
			in.resource = p.Resource
		case "mode":
			in.mode = p.ValueCode
		case "profile":
			in.profile = p.ValueURI + p.ValueCan
		}
	}
	if in.resource == nil && in.mode != "delete" {
		return in, fail(http.StatusBadRequest, "required", "$validate needs a resource unless the mode is delete")
	}
	return in, nil
}

// checkMode checks what the mode asks: create (no id), update (the id of
// the URL), delete (a stored resource nothing refers to).
func (s *Server) checkMode(typ, id string, in validateIn) ([]any, error) {
	if (in.mode == "update" || in.mode == "delete") != (id != "") {
		return nil, fail(http.StatusBadRequest, "invalid", "mode %q at the %s level", in.mode, map[bool]string{true: "instance", false: "type"}[id != ""])
	}
	switch in.mode {
	case "", "create", "update":
	case "delete":
		s.mu.Lock()
		defer s.mu.Unlock()
		if rec := s.record(typ, id); rec == nil || !rec.live() {
			return nil, fail(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
		}
		var out []any
		for _, ref := range s.referrers(typ + "/" + id) {
			out = append(out, issue("error", "processing", fmt.Sprintf("%s/%s is referred to by %s", typ, id, ref), typ))
		}
		return out, nil
	default:
		return nil, fail(http.StatusBadRequest, "code-invalid", "unknown mode %q", in.mode)
	}
	var doc struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(in.resource, &doc)
	switch {
	case in.mode == "create" && doc.ID != "":
		return []any{issue("error", "invalid", "a resource to create has no id", typ+".id")}, nil
	case in.mode == "update" && doc.ID != id:
		return []any{issue("error", "invalid", fmt.Sprintf("the resource id %q is not the id %q of the URL", doc.ID, id), typ+".id")}, nil
	}
	return nil, nil
}

// checkResource applies the rules to a resource of type typ, and those
// of the profile when one is given.
func checkResource(typ string, body []byte, prof string) []any {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return []any{issue("error", "structure", "not a JSON object: "+err.Error(), typ)}
	}
	return checkDoc(typ, doc, prof)
}

// checkWrite refuses a resource that $validate finds invalid, as a real
// server refuses it on every write (create, update, patch, and the
// entries of a batch or transaction): 400 with one issue per problem.
func checkWrite(typ string, doc map[string]any) error {
	issues := checkDoc(typ, doc, "")
	if len(issues) == 0 {
		return nil
	}
	first, _ := issues[0].(map[string]any)
	msg, _ := first["diagnostics"].(string)
	return &httpError{status: http.StatusBadRequest, code: "structure", msg: msg, issues: issues}
}

// checkDoc applies the rules to doc, a decoded resource of type typ, and
// those of the profile prof when one is given.
func checkDoc(typ string, doc map[string]any, prof string) []any {
	if rt, _ := doc["resourceType"].(string); rt != typ {
		return []any{issue("error", "invalid", fmt.Sprintf("resourceType %q is not %s", rt, typ), typ)}
	}
	var out []any
	for _, el := range required[typ] {
		out = append(out, missing(doc, typ, el, "")...)
	}
	for _, el := range slices.Sorted(maps.Keys(codes[typ])) {
		if v, ok := doc[el].(string); ok && !slices.Contains(codes[typ][el], v) {
			out = append(out, issue("error", "code-invalid",
				fmt.Sprintf("%q is not a code of the required value set (%s)", v, strings.Join(codes[typ][el], ", ")), typ+"."+el))
		}
	}
	if prof == "" {
		return out
	}
	p, ok := profiles[prof]
	switch {
	case !ok:
		return append(out, issue("error", "not-found", "profile "+prof+" is not known to this server", typ))
	case p.typ != typ:
		return append(out, issue("error", "invalid", "profile "+prof+" constrains "+p.typ+", not "+typ, typ))
	}
	for _, el := range p.required {
		out = append(out, missing(doc, typ, el, prof)...)
	}
	return out
}

// missing is the issue of a required element el that doc lacks.
func missing(doc map[string]any, typ, el, prof string) []any {
	if base, ok := strings.CutSuffix(el, "[x]"); ok {
		for k := range doc {
			if rest, ok := strings.CutPrefix(k, base); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
				return nil
			}
		}
	} else if v, ok := doc[el]; ok && v != nil {
		return nil
	}
	msg := typ + "." + el + ": minimum required = 1, but only found 0"
	if prof != "" {
		msg += " (from " + prof + ")"
	}
	return []any{issue("error", "required", msg, typ+"."+el)}
}

// issue is an OperationOutcome issue; expression and location name the
// same element.
func issue(severity, code, diagnostics, expression string) map[string]any {
	is := map[string]any{"severity": severity, "code": code, "diagnostics": diagnostics}
	if expression != "" {
		is["expression"] = []string{expression}
		is["location"] = []string{expression}
	}
	return is
}

// referrers lists the live resources that refer to ref ("Type/id"),
// sorted; the store lock is held.
func (s *Server) referrers(ref string) []string {
	var out []string
	for typ, recs := range s.types {
		for id, rec := range recs {
			if !rec.live() {
				continue
			}
			var doc any
			if json.Unmarshal(rec.current().body, &doc) == nil && mentions(doc, ref) {
				out = append(out, typ+"/"+id)
			}
		}
	}
	sort.Strings(out)
	return out
}

// mentions reports whether a Reference anywhere in v points to ref.
func mentions(v any, ref string) bool {
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["reference"].(string); ok && (r == ref || strings.HasSuffix(r, "/"+ref)) {
			return true
		}
		for _, x := range v {
			if mentions(x, ref) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if mentions(x, ref) {
				return true
			}
		}
	}
	return false
}
