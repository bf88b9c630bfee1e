package rest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
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
			old, _ := newConn(t, srv.URL, nil, ConnConfig{})
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
				next, _ := newConn(t, srv.URL, nil, ConnConfig{})
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

func TestNewRegistryClosesItsStoreOnFailure(t *testing.T) {
	st := closerStore{Store: cache.NewMemory(1), closed: make(chan struct{})}
	defer func(f func(StoreConfig, oauthclient.Options) (cache.Store, error)) { openStore = f }(openStore)
	openStore = func(StoreConfig, oauthclient.Options) (cache.Store, error) { return st, nil }
	cfg := &Config{REST: map[string]ConnConfig{"crm": {BaseURL: "ftp://crm.example.com"}}}
	_, err := NewRegistry(context.Background(), cfg, RegistryOptions{})
	require.Error(t, err)
	select {
	case <-st.closed:
	default:
		t.Fatal("the store the registry opened was left open")
	}
	assert.False(t, errors.Is(err, context.Canceled))
}
