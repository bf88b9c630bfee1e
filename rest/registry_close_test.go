package rest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
)

// idleServer counts closed connections on a channel.
func idleServer(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	closed := make(chan struct{}, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, closed
}

func waitClosed(t *testing.T, closed <-chan struct{}, why string) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal(why)
	}
}

func TestRegistryClosesIdleConnectionsOfReplaced(t *testing.T) {
	for _, op := range []string{"put", "remove"} {
		t.Run(op, func(t *testing.T) {
			srv, closed := idleServer(t)
			var r Registry
			old, _ := testConn(t, srv.URL, nil, ConnConfig{})
			r.Put(old)
			resp, err := old.Get(context.Background(), "x")
			require.NoError(t, err)
			resp.Body.Close() // the connection is now idle in old's pool
			r.Put(old)        // the same *Conn again: nothing to close
			select {
			case <-closed:
				t.Fatal("re-putting the same connection closed its pool")
			default:
			}
			if op == "put" {
				next, _ := testConn(t, srv.URL, nil, ConnConfig{})
				r.Put(next)
			} else {
				r.Remove("crm")
			}
			waitClosed(t, closed, "the replaced connection's idle connection was not closed")
		})
	}
}

type closerStore struct {
	cache.Store
	closed chan struct{}
}

func (s closerStore) Close() error { close(s.closed); return nil }

// fakeDriver is a store driver whose section opens st.
type fakeDriver struct{ st cache.Store }

func (d fakeDriver) StoreName() string            { return "fake" }
func (d fakeDriver) NewStoreConfig() cache.Config { return &fakeSection{st: d.st} }

type fakeSection struct {
	Size int `yaml:"size"`
	st   cache.Store
}

func (f *fakeSection) Check(cache.Env) error {
	if f.Size < 0 {
		return errors.New("fake: size must not be negative")
	}
	return nil
}

func (f *fakeSection) Open(context.Context, cache.Env) (cache.Store, error) { return f.st, nil }

func TestOpenClosesItsStoreOnFailure(t *testing.T) {
	st := closerStore{Store: cache.NewMemory(1), closed: make(chan struct{})}
	reads := 0
	ca := caPEM(t)
	read := func(string) ([]byte, error) { // the CA file vanishes between loading and opening
		reads++
		if reads > 2 { // read at load, checked again at open, gone when building
			return nil, errors.New("gone")
		}
		return ca, nil
	}
	cfg, err := ParseConfig([]byte("rest:\n  crm: {base_url: 'https://crm.example.com', tls: {ca_file: /ca.pem}}\nstore:\n  fake: {size: 1}\n"),
		WithStoreDriver(fakeDriver{st}), WithReadFile(read))
	require.NoError(t, err)
	_, err = Open(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `connection "crm"`)
	select {
	case <-st.closed:
	default:
		t.Fatal("the store the registry opened was left open")
	}
}

// countingStore counts its Close calls.
type countingStore struct {
	cache.Store
	mu sync.Mutex
	n  int
}

func (s *countingStore) Close() error { s.mu.Lock(); s.n++; s.mu.Unlock(); return nil }
func (s *countingStore) closes() int  { s.mu.Lock(); defer s.mu.Unlock(); return s.n }
