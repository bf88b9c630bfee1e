package fhir_test

import (
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// The client's reads and writes against fhirtest and the real server: only
// what both answer alike is asserted (ids and version ids are the server's
// own, a real server's are not 1, 2, 3).

// idSystem is the identifier system of the patients these tests make; the
// value (unique) tells each test's apart.
const idSystem = "urn:tokenwire:test"

// newPatient is a Patient of family fam with the identifier idSystem|fam.
func newPatient(fam string) *models.Patient {
	return &models.Patient{
		Active:     ptr(true),
		Name:       []models.HumanName{{Family: ptr(fam), Given: []string{"Peter", "James"}}},
		Identifier: []models.Identifier{{System: ptr(idSystem), Value: ptr(fam)}},
		Telecom: []models.ContactPoint{
			{System: ptr(models.ContactPointSystemPhone), Value: ptr("(03) 5555 6473")},
			{System: ptr(models.ContactPointSystemEmail), Value: ptr("p@example.org")},
		},
		BirthDate: ptr("1974-12-25"),
	}
}

func TestServersCreateReadUpdateVRead(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		res, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, res.Status)
		require.NotEmpty(t, res.ID, "from Location")
		require.NotEmpty(t, res.VersionID, "from ETag")
		assert.Contains(t, res.Location, "/Patient/"+res.ID)
		require.NotNil(t, res.Resource)
		assert.Equal(t, res.ID, *res.Resource.Id)
		assert.Equal(t, res.VersionID, *res.Resource.Meta.VersionId)

		got, err := fhir.Read[models.Patient](ctx(t), conn, res.ID)
		require.NoError(t, err)
		assert.Equal(t, fam, *got.Name[0].Family)
		assert.Equal(t, "1974-12-25", *got.BirthDate)

		got.Active = ptr(false)
		upd, err := fhir.Update(ctx(t), conn, got)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, upd.Status)
		assert.Equal(t, res.ID, upd.ID)
		assert.NotEqual(t, res.VersionID, upd.VersionID)

		v1, err := fhir.VRead[models.Patient](ctx(t), conn, res.ID, res.VersionID)
		require.NoError(t, err)
		assert.True(t, *v1.Active)
		v2, err := fhir.VRead[models.Patient](ctx(t), conn, res.ID, upd.VersionID)
		require.NoError(t, err)
		assert.False(t, *v2.Active)

		meta, err := fhir.ReadMeta[models.Patient](ctx(t), conn, res.ID)
		require.NoError(t, err)
		assert.Equal(t, upd.VersionID, meta.VersionID, "from ETag")

		_, err = fhir.Read[models.Patient](ctx(t), conn, unique(t))
		assert.ErrorIs(t, err, rest.ErrNotFound)
	})
}

func TestServersCreateMinimal(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		res, err := fhir.Create(ctx(t), conn, newPatient(unique(t)), fhir.ReturnMinimal())
		require.NoError(t, err)
		assert.Nil(t, res.Resource)
		require.NotEmpty(t, res.ID, "from Location")
		require.NotEmpty(t, res.VersionID, "from ETag")
		got, err := fhir.Read[models.Patient](ctx(t), conn, res.ID)
		require.NoError(t, err)
		assert.Equal(t, res.VersionID, *got.Meta.VersionId)
	})
}

func TestServersConditionalCreate(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		q := fhir.Params().Token("identifier", idSystem, fam)

		first, err := fhir.Create(ctx(t), conn, newPatient(fam), fhir.IfNoneExist(q))
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, first.Status)

		second, err := fhir.Create(ctx(t), conn, newPatient(fam), fhir.IfNoneExist(q))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, second.Status, "a match is returned, not created")
		assert.Equal(t, first.ID, second.ID)

		_, err = fhir.Create(ctx(t), conn, newPatient(fam)) // a second one
		require.NoError(t, err)
		_, err = fhir.Create(ctx(t), conn, newPatient(fam), fhir.IfNoneExist(q))
		assert.ErrorIs(t, err, rest.ErrPreconditionFailed, "several matches")
	})
}

func TestServersUpdateVersionConflict(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		res, err := fhir.Create(ctx(t), conn, newPatient(unique(t)))
		require.NoError(t, err)
		stale := res.Resource
		fresh := *stale
		fresh.Active = ptr(false)
		_, err = fhir.Update(ctx(t), conn, &fresh)
		require.NoError(t, err)

		_, err = fhir.Update(ctx(t), conn, stale) // its versionId is the first
		require.ErrorIs(t, err, rest.ErrPreconditionFailed)
		var fe *fhir.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, http.StatusPreconditionFailed, fe.StatusCode)
		assert.Equal(t, "PUT", fe.Method)
		require.NotEmpty(t, fe.Issues)
		assert.Equal(t, "error", fe.Issues[0].Severity)
		assert.Equal(t, "processing", fe.Issues[0].Code)

		_, err = fhir.Update(ctx(t), conn, stale, fhir.IfMatch("") /* last writer wins */)
		assert.NoError(t, err)
	})
}

func TestServersUpdateWhere(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		q := fhir.Params().Token("identifier", idSystem, fam)
		res, err := fhir.UpdateWhere(ctx(t), conn, newPatient(fam), q)
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, res.Status, "no match creates")

		p := newPatient(fam)
		p.Active = ptr(false)
		res2, err := fhir.UpdateWhere(ctx(t), conn, p, q)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, res2.Status)
		assert.Equal(t, res.ID, res2.ID)
		assert.NotEqual(t, res.VersionID, res2.VersionID)
		assert.False(t, *res2.Resource.Active)
	})
}

func TestServersPatch(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		res, err := fhir.Create(ctx(t), conn, newPatient(unique(t)))
		require.NoError(t, err)
		ops := []fhir.PatchOp{
			{Op: "replace", Path: "/active", Value: false},
			{Op: "add", Path: "/name/0/given/-", Value: "Jacob"},
			{Op: "remove", Path: "/telecom/0"},
		}
		out, err := fhir.Patch[models.Patient](ctx(t), conn, res.ID, ops, fhir.IfMatch(res.VersionID))
		require.NoError(t, err)
		assert.NotEqual(t, res.VersionID, out.VersionID)
		assert.False(t, *out.Resource.Active)
		assert.Equal(t, []string{"Peter", "James", "Jacob"}, out.Resource.Name[0].Given)
		require.Len(t, out.Resource.Telecom, 1)
		assert.Equal(t, models.ContactPointSystemEmail, *out.Resource.Telecom[0].System)

		_, err = fhir.Patch[models.Patient](ctx(t), conn, res.ID, ops, fhir.IfMatch(res.VersionID))
		assert.ErrorIs(t, err, rest.ErrPreconditionFailed, "stale version")
		_, err = fhir.Patch[models.Patient](ctx(t), conn, res.ID, []fhir.PatchOp{{Op: "remove", Path: "/nope"}})
		assert.ErrorIs(t, err, rest.ErrBadRequest, "a patch that cannot be applied")
	})
}

func TestServersPatchWhere(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		q := fhir.Params().Token("identifier", idSystem, fam)
		ops := []fhir.PatchOp{{Op: "replace", Path: "/active", Value: false}}
		res, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)

		out, err := fhir.PatchWhere[models.Patient](ctx(t), conn, q, ops)
		require.NoError(t, err)
		assert.Equal(t, res.ID, out.ID)
		assert.False(t, *out.Resource.Active)

		_, err = fhir.Create(ctx(t), conn, newPatient(fam)) // a second match
		require.NoError(t, err)
		_, err = fhir.PatchWhere[models.Patient](ctx(t), conn, q, ops)
		assert.ErrorIs(t, err, rest.ErrPreconditionFailed, "several match")
	})
}

func TestServersDelete(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, srv serverKind) {
		res, err := fhir.Create(ctx(t), conn, newPatient(unique(t)))
		require.NoError(t, err)
		upd, err := fhir.Update(ctx(t), conn, res.Resource)
		require.NoError(t, err)

		err = conn.Delete(ctx(t), "Patient", res.ID, fhir.IfMatch(res.VersionID))
		assert.ErrorIs(t, err, rest.ErrPreconditionFailed, "stale version")
		_, err = fhir.Read[models.Patient](ctx(t), conn, res.ID)
		require.NoError(t, err, "not deleted")

		require.NoError(t, conn.Delete(ctx(t), "Patient", res.ID, fhir.IfMatch(upd.VersionID)))
		_, err = fhir.Read[models.Patient](ctx(t), conn, res.ID)
		if srv == onReal {
			// MemoryRepository forgets a deleted resource (.ci/fhir/NOTES);
			// fhirtest answers 410 Gone as Medplum's and HAPI's servers do.
			assert.ErrorIs(t, err, rest.ErrNotFound)
		} else {
			assert.ErrorIs(t, err, rest.ErrGone)
		}
	})
}

func TestServersInstanceHistory(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		res, err := fhir.Create(ctx(t), conn, newPatient(unique(t)))
		require.NoError(t, err)
		want := []string{res.VersionID}
		p := res.Resource
		for range 2 {
			out, err := fhir.Update(ctx(t), conn, p)
			require.NoError(t, err)
			p = out.Resource
			want = append([]string{out.VersionID}, want...)
		}

		var got []string
		for e, err := range conn.History(ctx(t), "Patient", res.ID, nil) {
			require.NoError(t, err)
			require.NoError(t, e.Err)
			v, ok := e.Resource.(*models.Patient)
			require.True(t, ok, "%T", e.Resource)
			assert.Equal(t, res.ID, *v.Id)
			assert.Equal(t, res.ID, e.ID)
			assert.Equal(t, *v.Meta.VersionId, e.VersionID)
			got = append(got, e.VersionID)
		}
		assert.Equal(t, want, got, "newest first")
	})
}

func TestServersCapabilities(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		require.NoError(t, conn.Ping(ctx(t)))
		v, err := conn.FHIRVersion(ctx(t))
		require.NoError(t, err)
		assert.Equal(t, "4.0.1", v)
		for _, tt := range []struct {
			typ, interaction string
			want             bool
		}{
			{"Patient", "read", true},
			{"Patient", "vread", true},
			{"Patient", "update", true},
			{"Patient", "patch", true},
			{"Patient", "delete", true},
			{"Patient", "history-instance", true},
			{"Observation", "search-type", true},
			{"Patient", "frobnicate", false},
			{"", "transaction", true},
			{"", "batch", true},
		} {
			ok, err := conn.Supports(ctx(t), tt.typ, tt.interaction)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok, "%s %s", tt.typ, tt.interaction)
		}
	})
}

func TestServersDeleteWhere(t *testing.T) {
	forEachServer(t, func(t *testing.T, conn *fhir.Conn, _ serverKind) {
		fam := unique(t)
		q := fhir.Params().Token("identifier", idSystem, fam)
		require.NoError(t, conn.DeleteWhere(ctx(t), "Patient", q), "no match: nothing to delete")

		a, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)
		b, err := fhir.Create(ctx(t), conn, newPatient(fam))
		require.NoError(t, err)
		assert.ErrorIs(t, conn.DeleteWhere(ctx(t), "Patient", q), rest.ErrPreconditionFailed, "several match")

		require.NoError(t, conn.Delete(ctx(t), "Patient", b.ID))
		require.NoError(t, conn.DeleteWhere(ctx(t), "Patient", q))
		_, err = fhir.Read[models.Patient](ctx(t), conn, a.ID)
		assert.Error(t, err, "deleted")
		for _, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Add("family", fam)) {
			require.NoError(t, err)
			t.Error("a deleted patient is found")
		}
	})
}
