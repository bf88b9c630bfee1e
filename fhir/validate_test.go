package fhir_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

const usCorePatient = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"

// errorsAt returns the expressions of the error issues.
func errorsAt(issues []fhir.Issue) []string {
	var out []string
	for _, is := range issues {
		if is.Severity == "error" || is.Severity == "fatal" {
			out = append(out, is.Expression...)
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	conn, rec, base := serverConn(t)
	pid := testID(t, "p")
	put(t, conn, &models.Patient{Id: &pid, Gender: ptr(models.AdministrativeGenderFemale)})
	oid := testID(t, "o")
	put(t, conn, observation(oid, "Patient/"+pid, "8867-4"))

	good := observation("", "Patient/"+pid, "8867-4")
	good.Id = nil
	noStatus := json.RawMessage(`{"resourceType":"Observation","code":{"text":"heart rate"}}`)
	badGender := json.RawMessage(`{"resourceType":"Patient","gender":"f"}`)
	named := &models.Patient{Name: []models.HumanName{{Family: ptr("Chalmers")}}, Gender: ptr(models.AdministrativeGenderMale)}
	tests := []struct {
		name      string
		validate  func() (bool, []fhir.Issue, error)
		valid     bool
		errorsAt  []string
		wantFirst string // the request, relative to the base
	}{
		{"valid", func() (bool, []fhir.Issue, error) { return fhir.Validate(ctx(t), conn, good, "", "") },
			true, nil, "POST Observation/$validate"},
		{"missing required", func() (bool, []fhir.Issue, error) { return fhir.Validate(ctx(t), conn, &noStatus, "", "") },
			false, []string{"Observation.status"}, "POST Observation/$validate"},
		{"code outside its value set", func() (bool, []fhir.Issue, error) { return fhir.Validate(ctx(t), conn, &badGender, "", "") },
			false, []string{"Patient.gender"}, "POST Patient/$validate"},
		{"profile", func() (bool, []fhir.Issue, error) { return fhir.Validate(ctx(t), conn, named, "", usCorePatient) },
			false, []string{"Patient.identifier"}, "POST Patient/$validate"},
		{"create with an id", func() (bool, []fhir.Issue, error) {
			return fhir.Validate(ctx(t), conn, &models.Patient{Id: &pid}, "create", "")
		}, false, []string{"Patient.id"}, "POST Patient/$validate"},
		{"update", func() (bool, []fhir.Issue, error) {
			return fhir.Validate(ctx(t), conn, &models.Patient{Id: &pid, Gender: ptr(models.AdministrativeGenderOther)}, "update", "")
		}, true, nil, "POST Patient/" + pid + "/$validate"},
		{"delete of a resource referred to", func() (bool, []fhir.Issue, error) {
			return fhir.Validate(ctx(t), conn, &models.Patient{Id: &pid}, "delete", "")
		}, false, []string{"Patient"}, "POST Patient/" + pid + "/$validate"},
		{"delete of one nothing refers to", func() (bool, []fhir.Issue, error) {
			return fhir.Validate(ctx(t), conn, &models.Observation{Id: &oid}, "delete", "")
		}, true, nil, "POST Observation/" + oid + "/$validate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(rec.requests(base))
			valid, issues, err := tt.validate()
			require.NoError(t, err)
			assert.Equal(t, tt.valid, valid)
			assert.Equal(t, tt.errorsAt, errorsAt(issues))
			require.NotEmpty(t, issues, "a valid resource gets its informational issue")
			for _, is := range issues {
				assert.NotEmpty(t, is.Severity)
				assert.NotEmpty(t, is.Code)
			}
			assert.Equal(t, tt.wantFirst, rec.requests(base)[n])
		})
	}

	// What the server said of a missing element: code, diagnostics,
	// expression and location.
	_, issues, err := fhir.Validate(ctx(t), conn, &noStatus, "", "")
	require.NoError(t, err)
	require.Len(t, issues, 1)
	assert.Equal(t, "required", issues[0].Code)
	assert.Contains(t, issues[0].Diagnostics, "Observation.status")
	assert.Equal(t, []string{"Observation.status"}, issues[0].Location)
}

func TestValidateRefusedBeforeSending(t *testing.T) {
	conn, rec, base := serverConn(t)
	tests := map[string]func() error{
		"nil resource": func() error {
			_, _, err := fhir.Validate[models.Patient](ctx(t), conn, nil, "", "")
			return err
		},
		"update without id": func() error {
			_, _, err := fhir.Validate(ctx(t), conn, &models.Patient{}, "update", "")
			return err
		},
		"unknown mode": func() error {
			_, _, err := fhir.Validate(ctx(t), conn, &models.Patient{}, usCorePatient, "")
			return err
		},
		"no resource type": func() error {
			_, _, err := fhir.Validate(ctx(t), conn, &json.RawMessage{'{', '}'}, "", "")
			return err
		},
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			err := fn()
			require.Error(t, err)
		})
	}
	assert.Empty(t, rec.requests(base))
	_, _, err := fhir.Validate(ctx(t), conn, &models.Patient{}, "delete", "")
	assert.ErrorIs(t, err, rest.ErrBadPath)
}

// Servers answer an invalid resource with 200, or with 400, 412 or 422
// and the OperationOutcome: all are results. Other failures are errors.
func TestValidateStatuses(t *testing.T) {
	const outcome = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"required",
		"diagnostics":"Patient.name: minimum required = 1","expression":["Patient.name"],"location":["Line[1] Col[2]"]}]}`
	tests := []struct {
		status  int
		body    string
		wantErr error
	}{
		{http.StatusOK, outcome, nil},
		{http.StatusBadRequest, outcome, nil},
		{http.StatusPreconditionFailed, outcome, nil},
		{http.StatusUnprocessableEntity, outcome, nil},
		{http.StatusBadRequest, `<html>bad request</html>`, rest.ErrBadRequest},
		{http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`, rest.ErrNotFound},
		{http.StatusInternalServerError, outcome, rest.ErrServerError},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "/fhir/Patient/$validate", r.URL.Path)
				b, _ := io.ReadAll(r.Body)
				assert.JSONEq(t, `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient"}},
					{"name":"profile","valueUri":"`+usCorePatient+`"}]}`, string(b))
				w.Header().Set("Content-Type", "application/fhir+json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			conn, err := fhir.New("ehr", srv.URL+"/fhir", srv.Client())
			require.NoError(t, err)
			valid, issues, err := fhir.Validate(ctx(t), conn, &models.Patient{}, "", usCorePatient)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, issues)
				return
			}
			require.NoError(t, err)
			assert.False(t, valid)
			assert.Equal(t, []fhir.Issue{{Severity: "error", Code: "required", Diagnostics: "Patient.name: minimum required = 1",
				Expression: []string{"Patient.name"}, Location: []string{"Line[1] Col[2]"}}}, issues)
		})
	}
}

func TestValidateNotAnOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"resourceType":"Patient"}`)
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	_, _, err = fhir.Validate(ctx(t), conn, &models.Patient{}, "", "")
	assert.ErrorContains(t, err, `ehr: $validate returned "Patient", not an OperationOutcome`)

	cancelled, cancel := context.WithCancel(ctx(t))
	cancel()
	_, _, err = fhir.Validate(cancelled, conn, &models.Patient{}, "", "")
	assert.ErrorIs(t, err, context.Canceled)
}

// fhirtest lists the operations it implements in its CapabilityStatement.
func TestFhirtestListsItsOperations(t *testing.T) {
	_, conn := setup(t)
	for _, op := range []struct{ typ, name string }{{"Patient", "$validate"}, {"Observation", "$validate"},
		{"ValueSet", "$expand"}, {"ValueSet", "$validate-code"}, {"CodeSystem", "$lookup"}, {"ConceptMap", "$translate"}} {
		ok, err := conn.Supports(ctx(t), op.typ, op.name)
		require.NoError(t, err)
		assert.True(t, ok, "%s %s", op.typ, op.name)
	}
	ok, err := conn.Supports(ctx(t), "Patient", "$expand")
	require.NoError(t, err)
	assert.False(t, ok)
}

// A server that answers $validate with 422 keeps only the first 20 issues
// in the error it is read from; an error after 20 warnings still makes
// the resource invalid, and 20 warnings and nothing worse leave it valid.
func TestValidateWeighsIssuesBeyondTheFirst20(t *testing.T) {
	for _, last := range []string{"error", "fatal", "warning"} {
		t.Run(last, func(t *testing.T) {
			var b strings.Builder
			b.WriteString(`{"resourceType":"OperationOutcome","issue":[`)
			for i := range 25 {
				fmt.Fprintf(&b, `{"severity":"warning","code":"informational","diagnostics":"w%d"},`, i)
			}
			fmt.Fprintf(&b, `{"severity":%q,"code":"invalid","diagnostics":"the last"}]}`, last)
			conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				_, _ = io.WriteString(w, b.String())
			})
			valid, issues, err := fhir.Validate(ctx(t), conn, &models.Patient{}, "", "")
			require.NoError(t, err)
			assert.Len(t, issues, 20)
			assert.Equal(t, last == "warning", valid)
		})
	}
}
