package fhir

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockingMetadata is a server whose metadata answers wait for release;
// aborted receives once per request whose client gave up.
type blockingMetadata struct {
	hits    atomic.Int32
	started chan struct{}
	release chan struct{}
	aborted chan struct{}
}

func newBlockingMetadata(t *testing.T) (*blockingMetadata, *Conn) {
	t.Helper()
	b := &blockingMetadata{started: make(chan struct{}, 8), release: make(chan struct{}), aborted: make(chan struct{}, 8)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		b.started <- struct{}{}
		select {
		case <-b.release:
			_, _ = io.WriteString(w, `{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"resource":[{"type":"Patient","interaction":[{"code":"read"}]}]}]}`)
		case <-r.Context().Done():
			b.aborted <- struct{}{}
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	return b, c
}

// waitWaiters waits until the read in flight has n waiters.
func waitWaiters(c *Conn, n int) {
	for {
		c.caps.mu.Lock()
		f := c.caps.flight
		ok := f != nil && f.waiters == n
		c.caps.mu.Unlock()
		if ok {
			return
		}
		runtime.Gosched()
	}
}

type supported struct {
	ok  bool
	err error
}

func supports(ctx context.Context, c *Conn) chan supported {
	ch := make(chan supported, 1)
	go func() {
		ok, err := c.Supports(ctx, "Patient", "read")
		ch <- supported{ok, err}
	}()
	return ch
}

// One caller's cancellation is its own: the shared read goes on for the
// others.
func TestCapabilitiesCancelledCallerLeavesAlone(t *testing.T) {
	b, c := newBlockingMetadata(t)
	actx, cancel := context.WithCancel(t.Context())
	a := supports(actx, c)
	<-b.started
	other := supports(t.Context(), c)
	waitWaiters(c, 2)

	cancel()
	got := <-a
	assert.ErrorIs(t, got.err, context.Canceled)
	assert.ErrorContains(t, got.err, "fhir: ehr: waiting for metadata")
	waitWaiters(c, 1)

	close(b.release)
	got = <-other
	require.NoError(t, got.err)
	assert.True(t, got.ok)
	assert.Equal(t, int32(1), b.hits.Load())
	assert.Empty(t, b.aborted)
}

// When the last waiter leaves, the read is cancelled (its goroutine ends)
// and is not kept; the next caller starts a new one.
func TestCapabilitiesLastWaiterCancelsRead(t *testing.T) {
	b, c := newBlockingMetadata(t)
	actx, cancel := context.WithCancel(t.Context())
	a := supports(actx, c)
	<-b.started
	cancel()
	assert.True(t, errors.Is((<-a).err, context.Canceled))
	<-b.aborted // the server saw the request go

	close(b.release)
	got := <-supports(t.Context(), c)
	<-b.started
	require.NoError(t, got.err)
	assert.True(t, got.ok)
	assert.Equal(t, int32(2), b.hits.Load())
}
