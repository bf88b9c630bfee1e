package fhir_test

import (
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

func TestStatusURLRedirectedElsewhereIsRefused(t *testing.T) {
	other := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"transactionTime":"2026-01-01T00:00:00Z","request":"x","requiresAccessToken":false,"output":[]}`))
	})
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/status" {
			http.Redirect(w, r, other.URL+"/manifest", http.StatusFound)
			return
		}
		accepted(w, r)
	})
	conn := srv.conn(t, nil)
	x, err := conn.Export(ctx(t))
	require.NoError(t, err)
	_, err = x.Poll(ctx(t))
	require.ErrorIs(t, err, fhir.ErrCrossOrigin)
}

func TestGetVersionedPathAndResolveVersionedReference(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"resourceType":"Patient","id":"2","meta":{"versionId":"3"}}`))
	})
	conn := srv.conn(t, nil)
	v, err := conn.Get(ctx(t), "Patient/2/_history/3", nil)
	require.NoError(t, err)
	assert.Equal(t, "3", *v.(*models.Patient).Meta.VersionId)
	assert.Equal(t, "/fhir/Patient/2/_history/3", srv.received()[0].path)
	for _, bad := range []string{"Patient/_history/2/3", "Patient/2/_history", "_history/2"} {
		_, err := conn.Get(ctx(t), bad, nil)
		assert.Error(t, err, bad)
	}
}

func TestStarETagIsSentAsIs(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	conn := srv.conn(t, nil)
	require.NoError(t, conn.Delete(ctx(t), "Patient", "1", fhir.IfMatch("*")))
	assert.Equal(t, "*", srv.received()[0].header.Get("If-Match"))
}
