package rest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadPathErrorRedactsQuery(t *testing.T) {
	c, _ := testConn(t, "http://127.0.0.1:1/api?key=BASESECRET", nil, ConnConfig{})
	for _, p := range []string{
		"x?access_token=SUPERSECRET#frag",
		"../x?token=SUPERSECRET",
		"x?a=1&password=SUPERSECRET&b=%zz",
		"x#access_token=SUPERSECRET",
	} {
		_, err := c.Get(context.Background(), p)
		require.ErrorIs(t, err, ErrBadPath, p)
		assert.NotContains(t, err.Error(), "SUPERSECRET", p)
		assert.NotContains(t, err.Error(), "BASESECRET", p)
	}
}

func TestConnStringRedactsBaseURL(t *testing.T) {
	c, _ := testConn(t, "http://127.0.0.1:1/api?key=BASESECRET&tenant=t1", nil, ConnConfig{})
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		assert.NotContains(t, s, "BASESECRET")
		assert.Contains(t, s, "tenant=t1")
	}
}

func TestDefaultHeadersOnlyToOrigin(t *testing.T) {
	const hdr = "X-Tenant-Key"
	other := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, r.Header.Get(hdr), "a default header left its origin: %s", r.URL)
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, r.URL.Query().Get("back"), http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "elsewhere")
	})
	base := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "tk-1", r.Header.Get(hdr), "default header at the origin: %s", r.URL)
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		case "/roundtrip":
			http.Redirect(w, r, other.URL+"/hop?back=http://"+r.Host+"/home", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "home")
		}
	})
	c, _ := testConn(t, base.URL, nil, ConnConfig{Headers: map[string]string{hdr: "tk-1"}})
	for path, want := range map[string]string{"start": "elsewhere", "roundtrip": "home"} {
		resp, err := c.Get(context.Background(), path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, string(body))
	}

	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, other.URL+"/direct", nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	req, err = http.NewRequestWithContext(context.Background(), http.MethodGet, base.URL+"/direct", nil)
	require.NoError(t, err)
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
}

func TestRedirectLimitKept(t *testing.T) {
	var srvURL string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, srvURL+"/again", http.StatusFound) })
	srvURL = srv.URL
	c, _ := testConn(t, srv.URL, nil, ConnConfig{})
	_, err := c.Get(context.Background(), "x")
	assert.ErrorContains(t, err, "stopped after 10 redirects")
}
