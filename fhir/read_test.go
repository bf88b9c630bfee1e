package fhir_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

// recorded is what a raw server saw of the requests sent to it.
type recorded struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorded) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req.Clone(req.Context()))
}

func (r *recorded) last(t *testing.T) *http.Request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.reqs, "no request reached the server")
	return r.reqs[len(r.reqs)-1]
}

func (r *recorded) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// rawServer is an httptest server on loopback answering with h, as a real
// FHIR server would; it records every request.
func rawServer(t *testing.T, h http.HandlerFunc) (*fhir.Conn, *recorded) {
	t.Helper()
	rec := &recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL+"/fhir", srv.Client())
	require.NoError(t, err)
	return conn, rec
}

func TestReadMetaFromFhirtest(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	srv, conn := setup(t, fhirtest.WithClock(func() time.Time { return at }))
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)

	v, err := fhir.ReadMeta[models.Patient](ctx(t), conn, "example")
	require.NoError(t, err)
	assert.Equal(t, "example", v.ID)
	assert.Equal(t, "1", v.VersionID)
	assert.Equal(t, `W/"1"`, v.ETag, "as sent")
	assert.True(t, at.Equal(v.LastModified), "%v", v.LastModified)
	assert.False(t, v.NotModified)
	require.NotNil(t, v.Resource)
	assert.Equal(t, "Chalmers", *v.Resource.Name[0].Family)
}

// Servers send ETags weak or strong, with or without meta.versionId, and
// Last-Modified or only meta.lastUpdated.
func TestReadMetaHeaders(t *testing.T) {
	lastMod := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	tests := []struct {
		name, etag, lastModified, body string
		wantVersion                    string
		wantTime                       time.Time
	}{
		{"weak etag and meta", `W/"3"`, lastMod.Format(http.TimeFormat),
			`{"resourceType":"Patient","id":"7","meta":{"versionId":"3"}}`, "3", lastMod},
		{"strong etag, no meta", `"4"`, lastMod.Format(http.TimeFormat),
			`{"resourceType":"Patient","id":"7"}`, "4", lastMod},
		{"meta wins over etag", `"abc"`, "",
			`{"resourceType":"Patient","id":"7","meta":{"versionId":"5"}}`, "5", time.Time{}},
		{"lastUpdated without Last-Modified", "", "",
			`{"resourceType":"Patient","id":"7","meta":{"versionId":"6","lastUpdated":"2024-01-02T03:04:05.678+01:00"}}`,
			"6", time.Date(2024, 1, 2, 2, 4, 5, 678e6, time.UTC)},
		{"nothing", "", "", `{"resourceType":"Patient","id":"7"}`, "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.etag != "" {
					w.Header().Set("ETag", tt.etag)
				}
				if tt.lastModified != "" {
					w.Header().Set("Last-Modified", tt.lastModified)
				}
				w.Header().Set("Content-Type", "application/fhir+json")
				_, _ = w.Write([]byte(tt.body))
			})
			v, err := fhir.ReadMeta[models.Patient](ctx(t), conn, "7")
			require.NoError(t, err)
			assert.Equal(t, tt.wantVersion, v.VersionID)
			assert.Equal(t, tt.etag, v.ETag)
			assert.True(t, tt.wantTime.Equal(v.LastModified), "got %v", v.LastModified)
		})
	}
}

func TestRefreshNotModifiedReturnsCallersCopy(t *testing.T) {
	srv, conn := setup(t)
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)
	prev, err := fhir.ReadMeta[models.Patient](ctx(t), conn, "example")
	require.NoError(t, err)

	same, err := fhir.Refresh(ctx(t), conn, prev)
	require.NoError(t, err, "304 is no error")
	assert.True(t, same.NotModified)
	assert.Same(t, prev.Resource, same.Resource, "the caller's copy")
	assert.Equal(t, prev.ETag, same.ETag)
	assert.False(t, prev.NotModified, "prev itself is left alone")
	assert.Equal(t, 2, srv.Hits("GET", "Patient/example"))

	p := *prev.Resource
	p.Active = ptr(false)
	_, err = fhir.Update(ctx(t), conn, &p)
	require.NoError(t, err)
	next, err := fhir.Refresh(ctx(t), conn, same)
	require.NoError(t, err)
	assert.False(t, next.NotModified)
	assert.Equal(t, "2", next.VersionID)
	assert.Equal(t, `W/"2"`, next.ETag)
	assert.False(t, *next.Resource.Active)
}

// What a conditional read sends, and how a raw server's 304 (no body) is
// served.
func TestConditionalReadHeaders(t *testing.T) {
	since := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	conn, rec := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"9"`) // strong, as some servers send
		if r.Header.Get("If-None-Match") == `"9"` || r.Header.Get("If-Modified-Since") != "" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte(`{"resourceType":"Patient","id":"7","meta":{"versionId":"9"}}`))
	})

	prev, err := fhir.ReadMeta[models.Patient](ctx(t), conn, "7")
	require.NoError(t, err)
	assert.Empty(t, rec.last(t).Header.Get("If-None-Match"), "a plain read is unconditional")

	got, err := fhir.Refresh(ctx(t), conn, prev)
	require.NoError(t, err)
	assert.Equal(t, `"9"`, rec.last(t).Header.Get("If-None-Match"), "the ETag as the server sent it")
	assert.True(t, got.NotModified)
	assert.Same(t, prev.Resource, got.Resource)

	tests := []struct {
		name       string
		prev       fhir.Versioned[models.Patient]
		header     string
		wantHeader string
	}{
		{"bare version", fhir.Versioned[models.Patient]{VersionID: "9"}, "If-None-Match", `W/"9"`},
		{"strong etag", fhir.Versioned[models.Patient]{ETag: `"9"`}, "If-None-Match", `"9"`},
		{"weak etag", fhir.Versioned[models.Patient]{ETag: `W/"9"`}, "If-None-Match", `W/"9"`},
		{"modified since", fhir.Versioned[models.Patient]{LastModified: since.In(time.FixedZone("CET", 3600))}, "If-Modified-Since", "Fri, 01 Mar 2024 10:00:00 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := tt.prev
			prev.ID, prev.Resource = "7", &models.Patient{}
			v, err := fhir.Refresh(ctx(t), conn, &prev)
			require.NoError(t, err)
			assert.Equal(t, tt.wantHeader, rec.last(t).Header.Get(tt.header))
			if tt.wantHeader == `"9"` || tt.header == "If-Modified-Since" {
				assert.True(t, v.NotModified)
				assert.Same(t, prev.Resource, v.Resource, "a 304 gives the caller's copy back")
			}
		})
	}
}

func TestConditionalReadModifiedSince(t *testing.T) {
	clock := newClock()
	srv, conn := setup(t, fhirtest.WithClock(clock.Now))
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)

	prev := &fhir.Versioned[models.Patient]{ID: "example", Resource: &models.Patient{}, LastModified: clock.Now()}
	v, err := fhir.Refresh(ctx(t), conn, prev)
	require.NoError(t, err)
	assert.True(t, v.NotModified)

	prev.LastModified = clock.Now().Add(-time.Second)
	v, err = fhir.Refresh(ctx(t), conn, prev)
	require.NoError(t, err)
	assert.False(t, v.NotModified)
	assert.NotSame(t, prev.Resource, v.Resource)
	assert.Equal(t, "example", *v.Resource.Id)
}

func TestRefreshNeedsPrevious(t *testing.T) {
	conn, rec := rawServer(t, func(http.ResponseWriter, *http.Request) {})
	_, err := fhir.Refresh[models.Patient](ctx(t), conn, nil)
	assert.ErrorContains(t, err, "fhir: ehr: refresh")
	_, err = fhir.Refresh(ctx(t), conn, &fhir.Versioned[models.Patient]{ID: "1"})
	assert.Error(t, err)
	_, err = fhir.Refresh(ctx(t), conn, &fhir.Versioned[models.Patient]{ID: "../x", Resource: &models.Patient{}})
	assert.ErrorContains(t, err, "invalid id")
	assert.Zero(t, rec.count(), "refused before sending")
}

// A 304 is an answer, not an error, whatever the connection sends its
// requests through; so are the metadata reads of Supports.
func TestRefreshThroughEveryDoer(t *testing.T) {
	for _, kind := range connKinds {
		t.Run(kind.name, func(t *testing.T) {
			srv := fhirtest.NewServer()
			t.Cleanup(srv.Close)
			_, err := srv.Seed(examplePatient(t))
			require.NoError(t, err)
			conn := kind.conn(t, srv.URL)

			prev, err := fhir.ReadMeta[models.Patient](ctx(t), conn, "example")
			require.NoError(t, err)
			got, err := fhir.Refresh(ctx(t), conn, prev)
			require.NoError(t, err)
			assert.True(t, got.NotModified)
			assert.Same(t, prev.Resource, got.Resource)
			assert.Equal(t, 2, srv.Hits("GET", "Patient/example"), "no retry of a 304")

			require.NoError(t, conn.Delete(ctx(t), "Patient", "example", fhir.IfMatch("1")))
			assert.ErrorIs(t, conn.Delete(ctx(t), "Patient", "example", fhir.IfMatch("1")), rest.ErrPreconditionFailed)

			ok, err := conn.Supports(ctx(t), "Patient", "read")
			require.NoError(t, err)
			assert.True(t, ok)
		})
	}
}

func TestGetVersionedPathAndResolveVersionedReference(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"resourceType":"Patient","id":"2","meta":{"versionId":"3"}}`))
	})
	conn := srv.conn(t, nil)
	got, err := conn.Resolve(ctx(t), nil, models.Reference{Reference: ptr("Patient/2/_history/3")})
	require.NoError(t, err)
	assert.Equal(t, "3", *got["Patient/2/_history/3"].(*models.Patient).Meta.VersionId)
	assert.Equal(t, "/fhir/Patient/2/_history/3", srv.received()[0].path)
	for _, bad := range []string{"Patient/_history/2/3", "Patient/2/_history", "_history/2"} {
		_, err := conn.Resolve(ctx(t), nil, models.Reference{Reference: &bad})
		assert.Error(t, err, bad)
	}
	assert.Len(t, srv.received(), 1, "nothing is sent for a bad reference")
}
