package backends

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
	"github.com/tokenwire/tokenwire/rest"
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
			old, _ := testConn(t, srv.URL, nil, rest.ConnConfig{})
			e := &entry{kind: kindREST, rest: old}
			r.put("crm", e)
			resp, err := old.Get(context.Background(), "x")
			require.NoError(t, err)
			resp.Body.Close() // the connection is now idle in old's pool
			r.put("crm", e)   // the same connection again: nothing to close
			select {
			case <-closed:
				t.Fatal("re-putting the same connection closed its pool")
			default:
			}
			if op == "put" {
				next, _ := testConn(t, srv.URL, nil, rest.ConnConfig{})
				r.put("crm", &entry{kind: kindREST, rest: next})
			} else {
				r.remove("crm")
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

// withFake lets the store section name a fake store kept "in another
// package": its section opens the store fakeStores holds under its key, or
// a new memory store.
var withFake = WithStoreSection[fakeSection]("fake")

// fakeStores are the stores fake sections open, by key.
var fakeStores sync.Map

type fakeSection struct {
	Size int    `yaml:"size"`
	Key  string `yaml:"key"`
}

func (f *fakeSection) Check(cache.Env) error {
	if f.Size < 0 {
		return errors.New("fake: size must not be negative")
	}
	return nil
}

func (f *fakeSection) Open(context.Context, cache.Env) (cache.Store, error) {
	if st, ok := fakeStores.Load(f.Key); ok {
		return st.(cache.Store), nil
	}
	return cache.NewMemory(1), nil
}

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
	fakeStores.Store(t.Name(), st)
	cfg, err := Parse([]byte("rest:\n  crm: {base_url: 'https://crm.example.com', tls: {ca_file: /ca.pem}}\nstore:\n  fake: {size: 1, key: "+t.Name()+"}\n"),
		withFake, rest.WithReadFile(read))
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
