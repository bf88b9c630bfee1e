package fhir_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

// A search sent by POST _search is a read: a 503 with Retry-After is
// retried like the GET form of the same search (issue 10, item 2). Here
// the POST follows a GET refused as too long (414).
func TestPostSearchIsRetriedLikeAGet(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.Error(w, "URI Too Long", http.StatusRequestURITooLong)
			return
		}
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/fhir/Patient/_search", r.URL.Path)
		b, _ := io.ReadAll(r.Body)
		assert.Equal(t, "family=Chalmers", string(b), "the body is sent again in full")
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}`)
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL+"/fhir", restDoer(t, srv.URL, nil))
	require.NoError(t, err)
	var ids []string
	for p, err := range fhir.Search[models.Patient](context.Background(), conn, fhir.Params().Add("family", "Chalmers")) {
		require.NoError(t, err)
		ids = append(ids, *p.Id)
	}
	assert.Equal(t, []string{"p1"}, ids)
	assert.Equal(t, int32(2), hits.Load())
}

// Ids made only of dots are path segments, not ids: refused before
// anything is sent (issue 10, item 5).
func TestDotIDsAreRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	ctx := context.Background()
	for _, id := range []string{".", "..", "..."} {
		assert.Error(t, conn.Delete(ctx, "Patient", id), id)
		_, err := fhir.Read[models.Patient](ctx, conn, id)
		assert.ErrorContains(t, err, "not only dots", id)
		_, err = fhir.VRead[models.Patient](ctx, conn, "p1", id)
		assert.Error(t, err, id)
		_, err = conn.Operation(ctx, "Patient/"+id, "everything", nil)
		assert.Error(t, err, id)
	}
	assert.Zero(t, hits.Load(), "nothing was sent")
	_, err = fhir.Read[models.Patient](ctx, conn, "a.b")
	assert.NotContains(t, errString(err), "not only dots", "dots inside an id are fine")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
