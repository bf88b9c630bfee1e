package fhir_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

func TestDeleteIfMatch(t *testing.T) {
	srv, conn := setup(t)
	res, err := fhir.Create(ctx(t), conn, examplePatient(t))
	require.NoError(t, err)
	_, err = fhir.Update(ctx(t), conn, res.Resource) // now version 2
	require.NoError(t, err)

	err = conn.Delete(ctx(t), "Patient", res.ID, fhir.IfMatch("1"))
	require.Error(t, err)
	assert.ErrorIs(t, err, rest.ErrPreconditionFailed)
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "ehr", fe.Conn)
	assert.Equal(t, http.MethodDelete, fe.Method)
	_, ok := srv.Resource("Patient", res.ID)
	assert.True(t, ok, "not deleted")

	require.NoError(t, conn.Delete(ctx(t), "Patient", res.ID, fhir.IfMatch(`W/"2"`)))
	_, ok = srv.Resource("Patient", res.ID)
	assert.False(t, ok)
}

// What If-Match a delete and a patch send, against a raw server answering
// 412 as real servers do.
func TestIfMatchSent(t *testing.T) {
	conn, rec := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-Match") != `W/"3"` && r.Header.Get("If-Match") != `"3"` {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"conflict"}]}`)
			return
		}
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("ETag", `W/"4"`)
		_, _ = io.WriteString(w, `{"resourceType":"Patient","id":"7","meta":{"versionId":"4"},"active":false}`)
	})
	patch := func(opts ...fhir.WriteOption) error {
		_, err := fhir.Patch[models.Patient](ctx(t), conn, "7", []fhir.PatchOp{{Op: "replace", Path: "/active", Value: false}}, opts...)
		return err
	}
	del := func(opts ...fhir.WriteOption) error { return conn.Delete(ctx(t), "Patient", "7", opts...) }
	tests := []struct {
		name  string
		send  func(...fhir.WriteOption) error
		opts  []fhir.WriteOption
		want  string
		match bool
	}{
		{"patch version", patch, []fhir.WriteOption{fhir.IfMatch("3")}, `W/"3"`, true},
		{"patch strong etag", patch, []fhir.WriteOption{fhir.IfMatch(`"3"`)}, `"3"`, true},
		{"patch stale", patch, []fhir.WriteOption{fhir.IfMatch("2")}, `W/"2"`, false},
		{"patch unlocked", patch, nil, "", false},
		{"delete weak etag", del, []fhir.WriteOption{fhir.IfMatch(`W/"3"`)}, `W/"3"`, true},
		{"delete stale", del, []fhir.WriteOption{fhir.IfMatch("2")}, `W/"2"`, false},
		{"delete plain", del, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.send(tt.opts...)
			got := rec.last(t)
			assert.Equal(t, tt.want, got.Header.Get("If-Match"))
			if tt.match {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, rest.ErrPreconditionFailed)
			}
			if got.Method == http.MethodDelete {
				assert.Empty(t, got.Header.Get("Prefer"), "a delete has no representation to prefer")
			} else {
				assert.Equal(t, "application/json-patch+json", got.Header.Get("Content-Type"))
			}
		})
	}
}

func TestPatchWhere(t *testing.T) {
	srv, conn := setup(t)
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)
	ops := []fhir.PatchOp{{Op: "replace", Path: "/active", Value: false}}
	q := fhir.Params().Token("identifier", "urn:oid:1.2.36.146.595.217.0.1", "12345")

	res, err := fhir.PatchWhere[models.Patient](ctx(t), conn, q, ops)
	require.NoError(t, err)
	assert.Equal(t, "example", res.ID)
	assert.Equal(t, "2", res.VersionID)
	assert.False(t, *res.Resource.Active)
	assert.Equal(t, 1, srv.Hits("PATCH", "Patient"))

	_, err = fhir.PatchWhere[models.Patient](ctx(t), conn, q, ops, fhir.IfMatch("1"))
	assert.ErrorIs(t, err, rest.ErrPreconditionFailed, "If-Match applies to the match")

	_, err = fhir.PatchWhere[models.Patient](ctx(t), conn, fhir.Params().Add("family", "Nobody"), ops)
	assert.ErrorIs(t, err, rest.ErrNotFound)

	_, err = fhir.Create(ctx(t), conn, examplePatient(t)) // a second "12345", id assigned
	require.NoError(t, err)
	_, err = fhir.PatchWhere[models.Patient](ctx(t), conn, q, ops)
	require.ErrorIs(t, err, rest.ErrPreconditionFailed, "several match")
	assert.NotContains(t, err.Error(), "12345", "no search value in an error")
	assert.NotContains(t, err.Error(), "1.2.36", "no search value in an error")
	assert.Contains(t, err.Error(), "ehr")

	hits := srv.Requests()
	_, err = fhir.PatchWhere[models.Patient](ctx(t), conn, fhir.Params(), ops)
	assert.ErrorContains(t, err, "fhir: ehr: conditional patch of Patient needs search parameters")
	_, err = fhir.PatchWhere[models.Patient](ctx(t), conn, nil, ops)
	assert.Error(t, err)
	assert.Equal(t, hits, srv.Requests(), "refused before sending")
}

func TestReturnOutcome(t *testing.T) {
	srv, conn := setup(t)
	res, err := fhir.Create(ctx(t), conn, examplePatient(t), fhir.ReturnOutcome())
	require.NoError(t, err)
	assert.Nil(t, res.Resource)
	assert.Equal(t, "1", res.ID, "from Location")
	assert.Equal(t, "1", res.VersionID, "from ETag")
	require.Len(t, res.Issues, 1)
	assert.Equal(t, "information", res.Issues[0].Severity)
	assert.Equal(t, 1, srv.Hits("POST", "Patient"))

	conn2, rec := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "Patient/9/_history/1")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"resourceType": "OperationOutcome",
			"issue": []any{map[string]any{"severity": "warning", "code": "informational", "diagnostics": "name missing"}}})
	})
	res, err = fhir.Create(ctx(t), conn2, &models.Patient{}, fhir.ReturnOutcome())
	require.NoError(t, err)
	assert.Equal(t, "return=OperationOutcome", rec.last(t).Header.Get("Prefer"))
	assert.Equal(t, "9", res.ID)
	require.Len(t, res.Issues, 1)
	assert.Equal(t, "name missing", res.Issues[0].Diagnostics)
}
