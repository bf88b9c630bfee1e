package fhir_test

import (
	"errors"
	"iter"
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

func TestCreateReadVRead(t *testing.T) {
	srv, conn := setup(t)
	p := examplePatient(t)

	res, err := fhir.Create(ctx(t), conn, p)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, res.Status)
	assert.Equal(t, "1", res.ID, "the server assigns the id")
	assert.Equal(t, "1", res.VersionID)
	assert.Contains(t, res.Location, "/Patient/1/_history/1")
	require.NotNil(t, res.Resource)
	assert.Equal(t, "Chalmers", *res.Resource.Name[0].Family)
	assert.Equal(t, 1, srv.Hits("POST", "Patient"))

	got, err := fhir.Read[models.Patient](ctx(t), conn, res.ID)
	require.NoError(t, err)
	assert.Equal(t, "1974-12-25", *got.BirthDate)
	assert.Equal(t, models.AdministrativeGenderMale, *got.Gender)
	assert.Equal(t, "1", *got.Meta.VersionId)

	got.Active = ptr(false)
	upd, err := fhir.Update(ctx(t), conn, got)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, upd.Status)
	assert.Equal(t, "2", upd.VersionID)

	v1, err := fhir.VRead[models.Patient](ctx(t), conn, res.ID, "1")
	require.NoError(t, err)
	assert.True(t, *v1.Active)
	v2, err := fhir.VRead[models.Patient](ctx(t), conn, res.ID, "2")
	require.NoError(t, err)
	assert.False(t, *v2.Active)
}

func TestCreateMinimal(t *testing.T) {
	_, conn := setup(t)
	res, err := fhir.Create(ctx(t), conn, examplePatient(t), fhir.ReturnMinimal())
	require.NoError(t, err)
	assert.Nil(t, res.Resource)
	assert.Equal(t, "1", res.ID, "from Location")
	assert.Equal(t, "1", res.VersionID, "from ETag")
}

func TestConditionalCreate(t *testing.T) {
	srv, conn := setup(t)
	q := fhir.Params().Token("identifier", "urn:oid:1.2.36.146.595.217.0.1", "12345")

	first, err := fhir.Create(ctx(t), conn, examplePatient(t), fhir.IfNoneExist(q))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, first.Status)

	second, err := fhir.Create(ctx(t), conn, examplePatient(t), fhir.IfNoneExist(q))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, second.Status, "a match is returned, not created")
	assert.Equal(t, first.ID, second.ID)

	_, err = srv.Seed(examplePatient(t)) // a second "12345"
	require.NoError(t, err)
	_, err = fhir.Create(ctx(t), conn, examplePatient(t), fhir.IfNoneExist(q))
	assert.ErrorIs(t, err, rest.ErrPreconditionFailed, "several matches")
}

func TestUpdateVersionConflict(t *testing.T) {
	_, conn := setup(t)
	res, err := fhir.Create(ctx(t), conn, examplePatient(t))
	require.NoError(t, err)
	stale := res.Resource

	fresh := *stale
	fresh.Active = ptr(false)
	_, err = fhir.Update(ctx(t), conn, &fresh)
	require.NoError(t, err)

	_, err = fhir.Update(ctx(t), conn, stale) // still says versionId 1
	require.Error(t, err)
	assert.ErrorIs(t, err, rest.ErrPreconditionFailed)
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, http.StatusPreconditionFailed, fe.StatusCode)
	assert.Equal(t, "PUT", fe.Method)
	require.Len(t, fe.Issues, 1)
	assert.Equal(t, "processing", fe.Issues[0].Code, "as Medplum and HAPI answer")

	_, err = fhir.Update(ctx(t), conn, stale, fhir.IfMatch("") /* last writer wins */)
	assert.NoError(t, err, "last writer wins without If-Match")

	_, err = fhir.Update(ctx(t), conn, stale, fhir.IfMatch("99"))
	assert.ErrorIs(t, err, rest.ErrPreconditionFailed)
}

func TestUpdateWhere(t *testing.T) {
	_, conn := setup(t)
	q := fhir.Params().Add("identifier", "12345") // any system
	p := examplePatient(t)
	p.Id, p.Meta = nil, nil

	res, err := fhir.UpdateWhere(ctx(t), conn, p, q)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, res.Status, "no match creates")

	p.Active = ptr(false)
	res2, err := fhir.UpdateWhere(ctx(t), conn, p, q)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res2.Status)
	assert.Equal(t, res.ID, res2.ID)
	assert.Equal(t, "2", res2.VersionID)
}

func TestPatch(t *testing.T) {
	_, conn := setup(t)
	res, err := fhir.Create(ctx(t), conn, examplePatient(t))
	require.NoError(t, err)

	ops := []fhir.PatchOp{
		{Op: "replace", Path: "/active", Value: false},
		{Op: "add", Path: "/name/0/given/-", Value: "Jacob"},
		{Op: "remove", Path: "/telecom/0"},
	}
	out, err := fhir.Patch[models.Patient](ctx(t), conn, res.ID, ops, fhir.IfMatch("1"))
	require.NoError(t, err)
	assert.Equal(t, "2", out.VersionID)
	assert.False(t, *out.Resource.Active)
	assert.Equal(t, []string{"Peter", "James", "Jacob"}, out.Resource.Name[0].Given)
	assert.Len(t, out.Resource.Telecom, 3)

	_, err = fhir.Patch[models.Patient](ctx(t), conn, res.ID, ops, fhir.IfMatch("1"))
	assert.ErrorIs(t, err, rest.ErrPreconditionFailed)
	_, err = fhir.Patch[models.Patient](ctx(t), conn, res.ID, []fhir.PatchOp{{Op: "remove", Path: "/nope"}})
	assert.ErrorIs(t, err, rest.ErrBadRequest, "as Medplum and HAPI answer")
}

func TestDeleteThenGone(t *testing.T) {
	_, conn := setup(t)
	res, err := fhir.Create(ctx(t), conn, examplePatient(t))
	require.NoError(t, err)

	require.NoError(t, conn.Delete(ctx(t), "Patient", res.ID))
	_, err = fhir.Read[models.Patient](ctx(t), conn, res.ID)
	assert.ErrorIs(t, err, rest.ErrGone)
	assert.NotErrorIs(t, err, rest.ErrNotFound)

	_, err = fhir.Read[models.Patient](ctx(t), conn, "404")
	assert.ErrorIs(t, err, rest.ErrNotFound)

	v1, err := fhir.VRead[models.Patient](ctx(t), conn, res.ID, "1")
	require.NoError(t, err, "old versions stay readable")
	assert.Equal(t, res.ID, *v1.Id)
}

func TestConditionalDelete(t *testing.T) {
	srv, conn := setup(t)
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)
	require.NoError(t, conn.DeleteWhere(ctx(t), "Patient", fhir.Params().Add("family", "Chalmers")))
	_, ok := srv.Resource("Patient", "example")
	assert.False(t, ok)
}

func TestHistory(t *testing.T) {
	_, conn := setup(t)
	res, err := fhir.Create(ctx(t), conn, examplePatient(t))
	require.NoError(t, err)
	p := res.Resource
	for range 3 {
		out, err := fhir.Update(ctx(t), conn, p)
		require.NoError(t, err)
		p = out.Resource
	}
	require.NoError(t, conn.Delete(ctx(t), "Patient", res.ID))
	_, err = fhir.Create(ctx(t), conn, &models.Observation{Status: models.ObservationStatusFinal})
	require.NoError(t, err)

	var methods []string
	for e, err := range conn.History(ctx(t), "Patient", res.ID, fhir.Params().Count(2)) {
		require.NoError(t, err)
		require.NoError(t, e.Err)
		methods = append(methods, e.Method)
		assert.Equal(t, res.ID, e.ID)
		if e.Method == "DELETE" {
			assert.Nil(t, e.Resource)
			continue
		}
		assert.IsType(t, &models.Patient{}, e.Resource)
	}
	assert.Equal(t, []string{"DELETE", "PUT", "PUT", "PUT", "POST"}, methods, "newest first, across 3 pages")

	n := 0
	for e, err := range conn.History(ctx(t), "Patient", "", nil) {
		require.NoError(t, err)
		if e.Method != "DELETE" {
			assert.IsType(t, &models.Patient{}, e.Resource)
		}
		n++
	}
	assert.Equal(t, 5, n, "type history holds only Patients")
}

func TestInvalidArguments(t *testing.T) {
	_, conn := setup(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"id with slash", func() error { _, err := fhir.Read[models.Patient](ctx(t), conn, "1/../x"); return err }},
		{"empty id", func() error { _, err := fhir.Read[models.Patient](ctx(t), conn, ""); return err }},
		{"non-model type", func() error { _, err := fhir.Read[struct{}](ctx(t), conn, "1"); return err }},
		{"update without id", func() error { _, err := fhir.Update(ctx(t), conn, &models.Patient{}); return err }},
		{"bad type", func() error { return conn.Delete(ctx(t), "Pa/tient", "1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			var fe *fhir.Error
			assert.False(t, errors.As(err, &fe), "rejected before sending: %v", err)
		})
	}
}

// An id or a type that is no FHIR id, whatever the call given it, is the
// caller's bad request: it matches rest.ErrBadPath (a service answers 400),
// never a server's or the network's failure, and nothing is sent.
func TestInvalidIDIsTheCallersBadRequest(t *testing.T) {
	srv, conn := setup(t)
	before := srv.Requests()
	calls := map[string]func() error{
		"Read":     func() error { _, err := fhir.Read[models.Patient](ctx(t), conn, "a?b"); return err },
		"VRead id": func() error { _, err := fhir.VRead[models.Patient](ctx(t), conn, "a#b", "1"); return err },
		"VRead version": func() error {
			_, err := fhir.VRead[models.Patient](ctx(t), conn, "a", "1/../2")
			return err
		},
		"ReadMeta": func() error { _, err := fhir.ReadMeta[models.Patient](ctx(t), conn, "..."); return err },
		"Update": func() error {
			id := "a?b"
			_, err := fhir.Update(ctx(t), conn, &models.Patient{Id: &id})
			return err
		},
		"Patch":   func() error { _, err := fhir.Patch[models.Patient](ctx(t), conn, "a b", nil); return err },
		"Delete":  func() error { return conn.Delete(ctx(t), "Patient", "a?b") },
		"type":    func() error { return conn.Delete(ctx(t), "Pa/tient", "1") },
		"History": func() error { return firstErr(conn.History(ctx(t), "Patient", "a?b", nil)) },
		"Export":  func() error { _, err := conn.ExportGroup(ctx(t), "a?b"); return err },
		"Export _type": func() error {
			_, err := conn.Export(ctx(t), fhir.ExportTypes("Pa?tient"))
			return err
		},
		"Operation": func() error {
			_, err := conn.Operation(ctx(t), "Patient/a?b", "everything", nil)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			require.ErrorIs(t, err, rest.ErrBadPath)
			assert.NotErrorIs(t, err, rest.ErrServerError)
			assert.NotErrorIs(t, err, rest.ErrTransport)
		})
	}
	assert.Equal(t, before, srv.Requests(), "nothing was sent")
}

func firstErr[V any](seq iter.Seq2[V, error]) error {
	for _, err := range seq {
		return err
	}
	return nil
}

func TestStarETagIsSentAsIs(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	conn := srv.conn(t, nil)
	require.NoError(t, conn.Delete(ctx(t), "Patient", "1", fhir.IfMatch("*")))
	assert.Equal(t, "*", srv.received()[0].header.Get("If-Match"))
}
