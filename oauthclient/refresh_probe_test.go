package oauthclient_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial probes of the refresh token family's rule, with the
// durability tests' replica processes and rig: each builds a failure the
// package doc's table of failures covers (or should), and asserts what the
// rule promises — no refresh token presented twice, no replica blocked
// when one could be sure.

// lostAnswerFront is a token endpoint in front of the rig's authorization
// server that, when armed, forwards the next refresh request to the
// server (which takes the token and rotates it), runs act, and then drops
// the connection without an answer: a gateway timeout, a reset link, a
// holder killed while its request is at the server.
type lostAnswerFront struct {
	srv *httptest.Server
	act atomic.Pointer[func()]
}

func newLostAnswerFront(t *testing.T, rig *durabilityRig) *lostAnswerFront {
	t.Helper()
	f := &lostAnswerFront{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), http.MethodPost, rig.as.TokenURL(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if act := f.act.Swap(nil); act != nil && bytes.Contains(body, []byte("grant_type=refresh_token")) {
			(*act)()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// onNextRefresh arms act for the next refresh request, which the server
// then takes while its answer is lost.
func (f *lostAnswerFront) onNextRefresh(act func()) { f.act.Store(&act) }

// sentRefresh asks r for a refresh until one is decided: a replica's
// Invalidate within MinBackoff of its last is a no-op (its "ok" made no
// request), and during a backoff it answers the last error.
func sentRefresh(rig *durabilityRig, r *replica) string {
	r.t.Helper()
	for range 1000 { // a bound for a hang, not a measurement
		used := rig.as.RefreshStats()
		answer := r.refresh()
		if rig.as.RefreshStats() != used || (answer != "ok" && !strings.Contains(answer, "next attempt after")) {
			return answer
		}
	}
	r.t.Fatal("the replica never decided")
	return ""
}

// A single instance on the memory store with a state file, killed while
// its refresh request is at the server (which takes the token): the
// README says that after a holder's kill -9 "nobody can know whether the
// server took the token ... no replica sends it". The restarted instance
// must hold back, not send the token of its state file's intent again.
func TestRefreshProbeSingleInstanceKilledMidRequest(t *testing.T) {
	rig := newDurabilityRig(t)
	front := newLostAnswerFront(t, rig)
	set := rig.settings(t, func(s *replicaSettings) { s.Redis, s.TokenURL = "", front.srv.URL })
	one := startReplica(t, set)
	require.Equal(t, "ok", one.refresh())

	front.onNextRefresh(func() { _ = one.cmd.Process.Kill() })
	for alive := true; alive; { // until the armed request reached the server: an "ok" before it made none
		_, err := io.WriteString(one.in, "refresh\n")
		require.NoError(t, err)
		_, alive = <-one.replies
	}
	used := rig.as.RefreshStats().Used

	again := startReplica(t, set)
	assert.Equal(t, "uncertain", again.refresh(), "the state file holds the killed instance's intent")
	rig.assertFamilyAlive(t)
	assert.Equal(t, used, rig.as.RefreshStats().Used, "nothing was sent after the restart")
}

// A replica whose state file cannot be written (a read-only or missing
// directory on one replica) does not send, but its intent must not reach
// the store either: otherwise every other replica waits forever for a
// request that was never made.
func TestRefreshProbeUnwritableStateFileDoesNotBlockTheFleet(t *testing.T) {
	rig := newDurabilityRig(t)
	a := startReplica(t, rig.settings(t, func(s *replicaSettings) {
		s.StateFile = filepath.Join(t.TempDir(), "missing-dir", "refresh-state.json")
	}))
	b := startReplica(t, rig.settings(t, nil))

	assert.NotEqual(t, "ok", a.refresh(), "A cannot keep a rotation: it does not send")
	assert.Equal(t, "ok", b.refresh(), "A sent nothing: B is sure")
	rig.assertFamilyAlive(t)
}
