package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/rest"
)

// The terminology operations are sent by GET with their parameters in the
// query, the form the specification's examples use and every terminology
// server accepts. Their inputs and results are the models' types.

// Expand expands a value set ($expand): GET ValueSet/$expand?url=… .
// valueSet is its canonical URL, with "|version" for one version; params
// adds the other inputs as the operation names them: filter (the text a
// user typed), count and offset (a page of a large expansion), date,
// activeOnly, displayLanguage, includeDesignations… The codes are in
// the result's Expansion.Contains (nested for a hierarchy), with its
// Total and Offset when the server sent them.
//
//	vs, err := ehr.Expand(ctx, "http://hl7.org/fhir/ValueSet/administrative-gender", url.Values{"filter": {"fem"}})
func (c *Conn) Expand(ctx context.Context, valueSet string, params url.Values) (*models.ValueSet, error) {
	q := url.Values{}
	for k, vs := range params {
		q[k] = append([]string(nil), vs...)
	}
	u, version, _ := strings.Cut(valueSet, "|")
	if u == "" {
		return nil, fmt.Errorf("fhir: %s: expand: no value set URL: %w", c.name, rest.ErrBadPath)
	}
	q.Set("url", u)
	if version != "" {
		q.Set("valueSetVersion", version)
	}
	k := call{method: http.MethodGet, url: c.url(q, "ValueSet", "$expand")}
	r, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := c.outcomeInstead(k, r, "$expand", "ValueSet"); err != nil {
		return nil, err
	}
	return decode[models.ValueSet](r.body, c.owned())
}

// Lookup looks a code up in its code system ($lookup): GET
// CodeSystem/$lookup?system=…&code=… (with version when the coding has
// one). The result is the concept as the server knows it: its Display,
// Designation (other languages and uses) and Property (such as parent,
// inactive, or the system's own). The code system's name and version
// that the server also sends are left out; [Conn.Operation] has them.
// An unknown code fails with the server's error (usually a 404 matching
// rest.ErrNotFound, or a 400).
func (c *Conn) Lookup(ctx context.Context, code models.Coding) (*models.CodeSystemConcept, error) {
	q, err := c.codingQuery("lookup", code, "system", "version")
	if err != nil {
		return nil, err
	}
	out, err := c.termParams(ctx, "CodeSystem", "$lookup", q)
	if err != nil {
		return nil, err
	}
	concept := &models.CodeSystemConcept{Code: *code.Code}
	for _, p := range out.Parameter {
		switch p.Name {
		case "display":
			concept.Display = p.ValueString
		case "designation":
			d := models.CodeSystemConceptDesignation{}
			for _, part := range p.Part {
				switch part.Name {
				case "language":
					d.Language = part.ValueCode
				case "use":
					d.Use = part.ValueCoding
				case "value":
					d.Value = deref(part.ValueString)
				}
			}
			concept.Designation = append(concept.Designation, d)
		case "property":
			concept.Property = append(concept.Property, lookupProperty(p.Part))
		}
	}
	return concept, nil
}

// lookupProperty reads the parts of a $lookup property.
func lookupProperty(parts []models.ParametersParameter) models.CodeSystemConceptProperty {
	var pr models.CodeSystemConceptProperty
	for _, part := range parts {
		switch part.Name {
		case "code":
			pr.Code = deref(part.ValueCode)
		case "value": // the one value[x] sent
			if part.ValueCode != nil {
				pr.ValueCode = *part.ValueCode
			}
			if part.ValueString != nil {
				pr.ValueString = *part.ValueString
			}
			if part.ValueDateTime != nil {
				pr.ValueDateTime = *part.ValueDateTime
			}
			if part.ValueCoding != nil {
				pr.ValueCoding = *part.ValueCoding
			}
			if part.ValueInteger != nil {
				pr.ValueInteger = *part.ValueInteger
			}
			if part.ValueBoolean != nil {
				pr.ValueBoolean = *part.ValueBoolean
			}
			if part.ValueDecimal != nil {
				pr.ValueDecimal = *part.ValueDecimal
			}
		}
	}
	return pr
}

// ValidateCode asks whether a code is in a value set ($validate-code):
// GET ValueSet/$validate-code?url=…&system=…&code=… . With valueSet ""
// it asks whether the code is in its own code system (GET
// CodeSystem/$validate-code?url=[system]&code=…). A display in the coding
// is checked too. ok is the server's result, and message its
// explanation (often set when ok is false, sometimes as a warning when
// ok is true, such as a wrong display). A code outside the value set is
// no error: err is the failure of the call itself.
func (c *Conn) ValidateCode(ctx context.Context, valueSet string, code models.Coding) (ok bool, message string, err error) {
	var q url.Values
	typ := "ValueSet"
	if valueSet == "" {
		typ = "CodeSystem"
		if q, err = c.codingQuery("validate-code", code, "url", "version"); err != nil {
			return false, "", err
		}
	} else {
		if q, err = c.codingQuery("validate-code", code, "system", "systemVersion"); err != nil {
			return false, "", err
		}
		u, version, _ := strings.Cut(valueSet, "|")
		q.Set("url", u)
		if version != "" {
			q.Set("valueSetVersion", version)
		}
	}
	if code.Display != nil {
		q.Set("display", *code.Display)
	}
	out, err := c.termParams(ctx, typ, "$validate-code", q)
	if err != nil {
		return false, "", err
	}
	var result *bool
	for _, p := range out.Parameter {
		switch p.Name {
		case "result":
			result = p.ValueBoolean
		case "message":
			message = deref(p.ValueString)
		}
	}
	if result == nil {
		return false, "", fmt.Errorf("fhir: %s: $validate-code returned no result", c.name)
	}
	return *result, message, nil
}

// Translate translates a code with a concept map ($translate): GET
// ConceptMap/$translate?url=…&system=…&code=…&targetsystem=… . conceptMap
// is the map's canonical URL, or "" to let the server choose among its
// maps; targetSystem, when not "", asks only for codes of that system.
// The matches come back as concept map groups, one per target system
// (Group.Target), each with one element: code's own code, whose Target
// lists the codes it maps to with their Equivalence. Read the
// equivalence: "unmatched" and "disjoint" say that the code does NOT map
// to the target, and a match without one is read as "relatedto", the
// weakest. No match at all is an empty result, not an error.
func (c *Conn) Translate(ctx context.Context, conceptMap string, code models.Coding, targetSystem string) ([]models.ConceptMapGroup, error) {
	q, err := c.codingQuery("translate", code, "system", "version")
	if err != nil {
		return nil, err
	}
	if conceptMap != "" {
		u, version, _ := strings.Cut(conceptMap, "|")
		q.Set("url", u)
		if version != "" {
			q.Set("conceptMapVersion", version)
		}
	}
	if targetSystem != "" {
		q.Set("targetsystem", targetSystem)
	}
	out, err := c.termParams(ctx, "ConceptMap", "$translate", q)
	if err != nil {
		return nil, err
	}
	var groups []models.ConceptMapGroup
	for _, p := range out.Parameter {
		if p.Name != "match" {
			continue
		}
		target, system, err := c.translateMatch(p.Part)
		if err != nil {
			return nil, err
		}
		groups = addMatch(groups, code, system, target)
	}
	return groups, nil
}

// translateMatch reads the parts of a $translate match.
func (c *Conn) translateMatch(parts []models.ParametersParameter) (models.ConceptMapGroupElementTarget, *string, error) {
	var t models.ConceptMapGroupElementTarget
	var system *string
	for _, part := range parts {
		switch part.Name {
		case "equivalence":
			raw, _ := json.Marshal(deref(part.ValueCode))
			if t.Equivalence.UnmarshalJSON(raw) != nil { // its message holds the whole code
				return t, nil, fmt.Errorf("fhir: %s: $translate: unknown ConceptMapEquivalence code %s", c.name, quoted(deref(part.ValueCode), 64))
			}
		case "concept":
			if part.ValueCoding != nil {
				t.Code, t.Display, system = part.ValueCoding.Code, part.ValueCoding.Display, part.ValueCoding.System
			}
		}
	}
	return t, system, nil
}

// addMatch files a match under the group of its target system.
func addMatch(groups []models.ConceptMapGroup, code models.Coding, system *string, t models.ConceptMapGroupElementTarget) []models.ConceptMapGroup {
	for i := range groups {
		if deref(groups[i].Target) == deref(system) {
			groups[i].Element[0].Target = append(groups[i].Element[0].Target, t)
			return groups
		}
	}
	return append(groups, models.ConceptMapGroup{Source: code.System, SourceVersion: code.Version, Target: system,
		Element: []models.ConceptMapGroupElement{{Code: code.Code, Display: code.Display, Target: []models.ConceptMapGroupElementTarget{t}}}})
}

// codingQuery is the query of a coding: its system under systemName, its
// code, its version under versionName; system and code are required.
func (c *Conn) codingQuery(op string, code models.Coding, systemName, versionName string) (url.Values, error) {
	if deref(code.System) == "" || deref(code.Code) == "" {
		return nil, fmt.Errorf("fhir: %s: %s: the coding needs a system and a code: %w", c.name, op, rest.ErrBadPath)
	}
	q := url.Values{systemName: {*code.System}, "code": {*code.Code}}
	if v := deref(code.Version); v != "" {
		q.Set(versionName, v)
	}
	return q, nil
}

// termParams sends a terminology operation by GET and decodes its
// Parameters.
func (c *Conn) termParams(ctx context.Context, typ, op string, q url.Values) (*models.Parameters, error) {
	k := call{method: http.MethodGet, url: c.url(q, typ, op)}
	r, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := c.outcomeInstead(k, r, op, "Parameters"); err != nil {
		return nil, err
	}
	return decode[models.Parameters](r.body, c.owned())
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
