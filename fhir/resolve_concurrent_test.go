package fhir_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

// patientAnswer answers a read of Patient/<id> with that patient.
func patientAnswer(r *http.Request) *http.Response {
	id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/fhir+json"}},
		Body:       io.NopCloser(strings.NewReader(fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, id))),
		Request:    r,
	}
}

func patientRefs(n int) []models.Reference {
	refs := make([]models.Reference, n)
	for i := range refs {
		refs[i] = refTo(fmt.Sprintf("Patient/p%d", i))
	}
	return refs
}

// Targets are read a few at a time: no read is answered until four are in
// flight, which reads one after the other would never reach. No more than
// four are ever in flight.
func TestResolveReadsSeveralAtOnce(t *testing.T) {
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	first := true
	conn, err := fhir.New("ehr", "https://ehr.example/fhir", doerFunc(func(r *http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		mu.Lock()
		for first && n < 4 && r.Context().Err() == nil {
			cond.Wait()
			n = inFlight.Load()
		}
		first = false
		cond.Broadcast()
		mu.Unlock()
		return patientAnswer(r), nil
	}))
	require.NoError(t, err)
	// Reads one after the other would wait here for ever: the deadline
	// ends the wait so that the test fails on its assertion instead.
	c, cancel := context.WithTimeout(ctx(t), time.Minute)
	defer cancel()
	context.AfterFunc(c, func() { mu.Lock(); cond.Broadcast(); mu.Unlock() })

	got, err := conn.Resolve(c, nil, patientRefs(40)...)
	require.NoError(t, err)
	require.Len(t, got, 40)
	for i := range 40 {
		assert.Equal(t, fmt.Sprintf("p%d", i), *got[fmt.Sprintf("Patient/p%d", i)].(*models.Patient).Id)
	}
	assert.EqualValues(t, 4, most.Load(), "at most four reads at once")
}

// A cancelled context ends the call: reads in flight end with it, reads
// not started are not sent, and every reference not resolved is an error
// that matches context.Canceled.
func TestResolveCancelledMidFlight(t *testing.T) {
	c, cancel := context.WithCancel(ctx(t))
	var sent atomic.Int32
	conn, err := fhir.New("ehr", "https://ehr.example/fhir", doerFunc(func(r *http.Request) (*http.Response, error) {
		if sent.Add(1) == 2 {
			cancel()
		}
		<-r.Context().Done() // nothing is answered before the cancel
		return nil, r.Context().Err()
	}))
	require.NoError(t, err)
	got, err := conn.Resolve(c, nil, patientRefs(40)...)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, got)
	assert.LessOrEqual(t, sent.Load(), int32(4), "no read started after the cancel")
}

// A Doer that panics panics the caller of Resolve, as a sequential read
// would: never a goroutine of the library, which would end the process.
func TestResolvePanicReachesTheCaller(t *testing.T) {
	conn, err := fhir.New("ehr", "https://ehr.example/fhir", doerFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/p3") {
			panic("doer bug")
		}
		return patientAnswer(r), nil
	}))
	require.NoError(t, err)
	assert.PanicsWithValue(t, "doer bug", func() { _, _ = conn.Resolve(ctx(t), nil, patientRefs(10)...) })
}

// A Doer that ends its goroutine (runtime.Goexit: t.FailNow in a test's
// fake) ends the caller's goroutine, as a sequential read would: Resolve
// never returns, and never gives a reference as resolved to nothing.
func TestResolveGoexitReachesTheCaller(t *testing.T) {
	conn, err := fhir.New("ehr", "https://ehr.example/fhir", doerFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/p3") {
			runtime.Goexit()
		}
		return patientAnswer(r), nil
	}))
	require.NoError(t, err)
	var (
		got      map[string]any
		gotErr   error
		returned bool
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		got, gotErr = conn.Resolve(ctx(t), nil, patientRefs(10)...)
		returned = true
	}()
	<-done
	assert.False(t, returned, "Resolve returned %d resources (Patient/p3: %v), error %v", len(got), got["Patient/p3"], gotErr)
}
