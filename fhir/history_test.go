package fhir_test

import (
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// version is what a test keeps of one Entry of a history.
type version struct {
	method, id, vid string
	at              time.Time
}

func history(t *testing.T, conn *fhir.Conn, typ, id string, q *fhir.Query) []version {
	t.Helper()
	var out []version
	for e, err := range conn.History(ctx(t), typ, id, q) {
		require.NoError(t, err)
		require.NoError(t, e.Err)
		out = append(out, version{e.Method, e.ID, e.VersionID, e.LastModified})
	}
	return out
}

func instant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// makeVersions creates a Patient, updates it twice and deletes it.
func makeVersions(t *testing.T, conn *fhir.Conn, sys string) (id string, v []version) {
	t.Helper()
	res, err := fhir.Create(ctx(t), conn, patientWith(sys, "h", "History"))
	require.NoError(t, err)
	p := res.Resource
	for range 2 {
		out, err := fhir.Update(ctx(t), conn, p)
		require.NoError(t, err)
		p = out.Resource
	}
	require.NoError(t, conn.Delete(ctx(t), "Patient", res.ID))
	v = history(t, conn, "Patient", res.ID, fhir.Params().Count(2))
	require.Len(t, v, 4, "every version, across pages")
	return res.ID, v
}

func TestHistoryOfAnInstance(t *testing.T) {
	conn, _ := newTxServer(t)
	id, v := makeVersions(t, conn, testSystem(t))

	for i, want := range []struct{ method, vid string }{{"DELETE", "4"}, {"PUT", "3"}, {"PUT", "2"}, {"POST", "1"}} {
		assert.Equal(t, want.method, v[i].method, "newest first")
		assert.Equal(t, want.vid, v[i].vid)
		assert.Equal(t, id, v[i].id)
		assert.False(t, v[i].at.IsZero())
	}
	for e, err := range conn.History(ctx(t), "Patient", id, nil) {
		require.NoError(t, err)
		if e.Method == "DELETE" {
			assert.Nil(t, e.Resource, "a deletion has no resource")
		} else {
			p, ok := e.Resource.(*models.Patient)
			require.True(t, ok, "%T", e.Resource)
			assert.Equal(t, e.VersionID, *p.Meta.VersionId)
		}
	}

	since := history(t, conn, "Patient", id, fhir.Params().Add("_since", instant(v[2].at)))
	assert.Equal(t, []version{v[0], v[1], v[2]}, since, "_since: versions made at or after version 2")

	at := history(t, conn, "Patient", id, fhir.Params().Add("_at", instant(v[2].at)))
	assert.Contains(t, at, v[2], "_at: the version current then")
	assert.NotContains(t, at, v[3], "version 1 was replaced before")
}

func TestHistoryOfATypeAndTheSystem(t *testing.T) {
	conn, _ := newTxServer(t)
	sys := testSystem(t)
	start, err := fhir.Create(ctx(t), conn, &models.Observation{Status: models.ObservationStatusFinal, Code: models.CodeableConcept{Text: &sys}})
	require.NoError(t, err)
	id, v := makeVersions(t, conn, sys)
	o, err := fhir.Read[models.Observation](ctx(t), conn, start.ID)
	require.NoError(t, err)
	q := func() *fhir.Query { return fhir.Params().Add("_since", *o.Meta.LastUpdated).Count(3) }

	typed := history(t, conn, "Patient", "", q())
	for _, ver := range v {
		assert.Contains(t, typed, ver, "Patient/%s version %s", id, ver.vid)
	}
	for e, err := range conn.History(ctx(t), "Patient", "", q()) {
		require.NoError(t, err)
		if e.Resource != nil {
			assert.IsType(t, &models.Patient{}, e.Resource, "a type's history holds only its type")
		}
	}

	all := history(t, conn, "", "", q())
	made, err := time.Parse(time.RFC3339, *o.Meta.LastUpdated)
	require.NoError(t, err)
	assert.Contains(t, all, version{"POST", start.ID, "1", made}, "the system's history holds every type")
	for _, ver := range v {
		assert.Contains(t, all, ver)
	}
}

func TestHistoryRefusesBadArguments(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, sent *counter, _ serverKind) {
		for _, args := range [][2]string{{"", "1"}, {"Patient", "a?b"}, {"pat/ient", ""}} {
			err := firstErr(conn.History(ctx(t), args[0], args[1], nil))
			assert.ErrorIs(t, err, rest.ErrBadPath, "%q", args)
		}
		assert.Zero(t, sent.Load())
		err := firstErr(conn.History(ctx(t), "Patient", "nobody-here", nil))
		assert.ErrorIs(t, err, rest.ErrNotFound)
	})
}
