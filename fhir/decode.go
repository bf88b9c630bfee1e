package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/internal/fhirjson"
)

// DecodeError names the resource type and the JSON path of a field that
// did not decode.
type DecodeError struct {
	ResourceType string // e.g. "Patient"
	Path         string // e.g. "gender", "name.given"; empty when unknown
	Offset       int64  // byte offset in the input, when known
	Err          error
}

func (e *DecodeError) Error() string {
	msg := "fhir: decoding " + e.ResourceType
	if e.Path != "" {
		msg += " at " + strconv.Quote(e.Path)
	} else if e.Offset > 0 {
		msg += " at offset " + strconv.FormatInt(e.Offset, 10)
	}
	return msg + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// registry maps the common resource types to their model constructors.
// It is never written after initialisation.
var registry = map[string]func() any{
	"AllergyIntolerance":       func() any { return new(models.AllergyIntolerance) },
	"Appointment":              func() any { return new(models.Appointment) },
	"Bundle":                   func() any { return new(models.Bundle) },
	"CapabilityStatement":      func() any { return new(models.CapabilityStatement) },
	"CarePlan":                 func() any { return new(models.CarePlan) },
	"CareTeam":                 func() any { return new(models.CareTeam) },
	"Claim":                    func() any { return new(models.Claim) },
	"Communication":            func() any { return new(models.Communication) },
	"Condition":                func() any { return new(models.Condition) },
	"Consent":                  func() any { return new(models.Consent) },
	"Coverage":                 func() any { return new(models.Coverage) },
	"Device":                   func() any { return new(models.Device) },
	"DiagnosticReport":         func() any { return new(models.DiagnosticReport) },
	"DocumentReference":        func() any { return new(models.DocumentReference) },
	"Encounter":                func() any { return new(models.Encounter) },
	"EpisodeOfCare":            func() any { return new(models.EpisodeOfCare) },
	"Goal":                     func() any { return new(models.Goal) },
	"Group":                    func() any { return new(models.Group) },
	"Immunization":             func() any { return new(models.Immunization) },
	"Location":                 func() any { return new(models.Location) },
	"Medication":               func() any { return new(models.Medication) },
	"MedicationAdministration": func() any { return new(models.MedicationAdministration) },
	"MedicationRequest":        func() any { return new(models.MedicationRequest) },
	"MedicationStatement":      func() any { return new(models.MedicationStatement) },
	"Observation":              func() any { return new(models.Observation) },
	"OperationOutcome":         func() any { return new(models.OperationOutcome) },
	"Organization":             func() any { return new(models.Organization) },
	"Parameters":               func() any { return new(models.Parameters) },
	"Patient":                  func() any { return new(models.Patient) },
	"Practitioner":             func() any { return new(models.Practitioner) },
	"PractitionerRole":         func() any { return new(models.PractitionerRole) },
	"Procedure":                func() any { return new(models.Procedure) },
	"Provenance":               func() any { return new(models.Provenance) },
	"Questionnaire":            func() any { return new(models.Questionnaire) },
	"QuestionnaireResponse":    func() any { return new(models.QuestionnaireResponse) },
	"RelatedPerson":            func() any { return new(models.RelatedPerson) },
	"Schedule":                 func() any { return new(models.Schedule) },
	"ServiceRequest":           func() any { return new(models.ServiceRequest) },
	"Slot":                     func() any { return new(models.Slot) },
	"Specimen":                 func() any { return new(models.Specimen) },
	"Task":                     func() any { return new(models.Task) },
}

// DecodeResource decodes one resource by dispatch on its "resourceType":
// a pointer to the model for the common types (*models.Patient,
// *models.Observation, …) and json.RawMessage for the others.
func DecodeResource(data []byte) (any, error) { return decodeResource(data, decoding{}) }

func decodeResource(data []byte, dc decoding) (any, error) {
	rt, ok := fhirjson.FirstString(data, "resourceType")
	if !ok {
		rt, ok = fhirjson.TopString(data, "resourceType")
	}
	if ok && registry[rt] != nil {
		v := registry[rt]()
		got, gotOK, err := fhirjson.UnmarshalResource(data, v, dc.options(rt, len(data)))
		if err == nil && gotOK && got == rt {
			return v, nil
		}
		if err != nil {
			if last, terr := resourceTypeOf(data); terr == nil && last == rt {
				return nil, decodeError(data, rt, err) // the type was right: do not decode twice
			}
		}
	}
	// The fast path could not confirm the type it chose: the slow way.
	rt, err := resourceTypeOf(data)
	if err != nil {
		return nil, err
	}
	mk, known := registry[rt]
	if !known {
		return json.RawMessage(bytes.Clone(data)), nil
	}
	v := mk()
	if err := decodeInto(data, v, rt, dc.options(rt, len(data))); err != nil {
		return nil, err
	}
	return v, nil
}

// resourceTypeOf returns the "resourceType" member of a JSON resource.
func resourceTypeOf(data []byte) (string, error) {
	if rt, ok := fhirjson.TopString(data, "resourceType"); ok && rt != "" {
		return rt, nil
	}
	var probe struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		if rt, ok := fhirjson.FirstString(data, "resourceType"); ok && rt != "" {
			return rt, nil // malformed after its type: decoding fails, and its error can name the type
		}
		return "", &DecodeError{ResourceType: "resource", Err: err}
	}
	if probe.ResourceType == "" {
		return "", &DecodeError{ResourceType: "resource", Path: "resourceType", Err: errors.New("missing resourceType")}
	}
	return probe.ResourceType, nil
}

// Decode decodes data into a resource of type T, checking that its
// resourceType matches T (when T is a model type).
func Decode[T any](data []byte) (*T, error) { return decode[T](data, decoding{}) }

func decode[T any](data []byte, dc decoding) (*T, error) {
	want := typeName[T]()
	v := new(T)
	rt, ok, err := fhirjson.UnmarshalResource(data, v, dc.options(want, len(data)))
	if want == "" || !ok {
		// Not a model, or the fast path could not tell the type: check
		// it as a scan sees it, before any decode error.
		if want != "" {
			if err := checkResourceType(data, want); err != nil {
				return nil, err
			}
		}
	} else if rt != want {
		return nil, &DecodeError{ResourceType: want, Path: "resourceType", Err: fmt.Errorf("got %s", quoted(rt, 64))}
	}
	if err != nil {
		return nil, decodeError(data, want, err)
	}
	return v, nil
}

func checkResourceType(data []byte, want string) error {
	rt, err := resourceTypeOf(data)
	if err != nil {
		return err
	}
	if rt != want {
		return &DecodeError{ResourceType: want, Path: "resourceType", Err: fmt.Errorf("got %s", quoted(rt, 64))}
	}
	return nil
}

// typeName is the FHIR resource type of a model type (its Go name), or ""
// for json.RawMessage and other non-model types.
func typeName[T any]() string {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeFor[models.Patient]().PkgPath() {
		return ""
	}
	return t.Name()
}

// decodeInto decodes with internal/fhirjson: the results of encoding/json
// (a differential test and a fuzz target hold it to that), several times
// faster.
func decodeInto(data []byte, v any, rt string, o fhirjson.Options) error {
	if err := fhirjson.UnmarshalOptions(data, v, o); err != nil {
		return decodeError(data, rt, err)
	}
	return nil
}

// decodeError is the *DecodeError of err, the failed decode of data.
func decodeError(data []byte, rt string, err error) error {
	if rt == "" {
		rt = "resource"
	}
	de := &DecodeError{ResourceType: rt, Err: err}
	if errors.Is(err, fhirjson.ErrTooLong) || errors.Is(err, fhirjson.ErrTooLarge) {
		return de
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		de.Path, de.Offset = te.Field, te.Offset
	case errors.As(err, &se):
		de.Offset = se.Offset
	default:
		// A model's enum rejected a code; find where that code sits, and
		// drop the code from the message: it may be patient data.
		if m := badCode.FindStringSubmatch(err.Error()); m != nil {
			de.Path = locate(data, m[2])
			de.Err = fmt.Errorf("unknown %s code", m[1])
		}
	}
	return de
}

// badCode matches the models' enum errors: "unknown AdministrativeGender code `x`".
var badCode = regexp.MustCompile("(?s)unknown (\\w+) code `(.*)`$")

// locate returns the path of the first string value equal to s, or "".
func locate(data []byte, s string) string {
	var tree any
	if json.Unmarshal(data, &tree) != nil {
		return ""
	}
	p, _ := find(tree, s, "")
	return p
}

func find(v any, s, path string) (string, bool) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch x := v.(type) {
	case string:
		return path, x == s
	case []any:
		for i, e := range x {
			if p, ok := find(e, s, join(strconv.Itoa(i))); ok {
				return p, true
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if p, ok := find(x[k], s, join(k)); ok {
				return p, true
			}
		}
	}
	return "", false
}
