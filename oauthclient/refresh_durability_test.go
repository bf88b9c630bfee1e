package oauthclient_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// The durability of a refresh token family, proven with real processes:
// each replica is this test binary run again (TestRefreshDurabilityReplica),
// driven line by line over its stdin, on a real Redis (directly or
// through a loopback proxy the test can cut) or on the memory store with a
// state file. The authorization server rotates the refresh token at every
// refresh and revokes the family at the first reuse; every scenario ends
// with no refresh token presented twice and the family alive.

const durabilityEnv = "TOKENWIRE_DURABILITY_REPLICA"

// replicaSettings is what a replica process is started with.
type replicaSettings struct {
	Redis     string // "" for the memory store
	Prefix    string
	TokenURL  string
	Seed      string
	Key       string
	StateFile string
}

// TestRefreshDurabilityReplica is one replica of the durability tests, run
// in a process of its own: "refresh" renews its access token with a
// refresh request (the token it holds is dropped first, as after a 401)
// and answers ok, uncertain, reauthorize or error.
func TestRefreshDurabilityReplica(t *testing.T) {
	raw := os.Getenv(durabilityEnv)
	if raw == "" {
		t.Skip("a replica process of the refresh durability tests")
	}
	var set replicaSettings
	require.NoError(t, json.Unmarshal([]byte(raw), &set))
	// The fleet lock outlives the holder's refresh by far (it takes tens
	// of ms; a loaded CI machine may pause a process for a second).
	opts := oauthclient.Options{AllowInsecureHTTP: true, LockTTL: 3 * time.Second,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, MaxBackoffWait: -1}
	if set.Redis != "" {
		key, err := hex.DecodeString(set.Key)
		require.NoError(t, err)
		client := goredis.NewClient(&goredis.Options{Addr: set.Redis, ContextTimeoutEnabled: true, MaxRetries: -1})
		defer client.Close()
		store, err := redis.New(client, redis.Options{Prefix: set.Prefix, Keys: [][]byte{key}, OpTimeout: time.Second})
		require.NoError(t, err)
		opts.Store = store
	}
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "saas", TokenURL: set.TokenURL, ClientID: "saas-client", ClientSecret: oauthclient.NewSecret("saas-secret"),
		Grant: oauthclient.RefreshToken{Token: oauthclient.ValueSupplier(oauthclient.NewSecret(set.Seed), time.Time{}), StateFile: set.StateFile},
	}, opts)
	require.NoError(t, err)
	defer src.Close()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "refresh" {
			return
		}
		fmt.Println("REPLY " + refreshOnce(src, opts.MinBackoff))
	}
}

// refreshOnce makes the replica send a refresh request now. Invalidate
// drops at most one token per MinBackoff: while the token it was given
// comes back, the drop was refused, and it waits out the MinBackoff.
func refreshOnce(src *oauthclient.Source, minBackoff time.Duration) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := src.TokenContext(ctx)
	for err == nil {
		src.Invalidate(tok)
		var next *oauthclient.Token
		if next, err = src.TokenContext(ctx); err != nil || next != tok {
			break
		}
		time.Sleep(minBackoff) // a rate limit in this replica process, not a synchronisation
	}
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, oauthclient.ErrRefreshUncertain):
		return "uncertain"
	case errors.Is(err, oauthclient.ErrReauthorize):
		return "reauthorize"
	}
	return "error " + strings.ReplaceAll(err.Error(), "\n", " ")
}

// replica is a running replica process.
type replica struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      io.WriteCloser
	replies chan string
}

func startReplica(t *testing.T, set replicaSettings) *replica {
	t.Helper()
	raw, err := json.Marshal(set)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshDurabilityReplica$", "-test.count=1")
	cmd.Env = append(os.Environ(), durabilityEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &replica{t: t, cmd: cmd, in: in, replies: make(chan string, 16)}
	go func() {
		defer close(r.replies)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "REPLY "); ok {
				r.replies <- line
			}
		}
	}()
	t.Cleanup(r.stop)
	return r
}

// refresh asks the replica for a refresh and returns its answer.
func (r *replica) refresh() string {
	r.t.Helper()
	_, err := io.WriteString(r.in, "refresh\n")
	require.NoError(r.t, err)
	select {
	case line, ok := <-r.replies:
		require.True(r.t, ok, "the replica ended")
		return line
	case <-time.After(60 * time.Second): // a hang, not a measurement
		r.t.Fatal("the replica did not answer")
	}
	return ""
}

// stop ends the replica as a service does: it closes its source.
func (r *replica) stop() {
	_ = r.in.Close()
	_ = r.cmd.Wait()
}

// durabilityRig is an authorization server behind a front that can act
// when a refresh request arrives, a Redis, and what replicas share.
type durabilityRig struct {
	as    *oauthtest.Server
	front *httptest.Server
	hook  atomic.Pointer[func() bool] // on the next refresh request; false: answer 502, not forwarded
	redis *redistest.Server
	set   replicaSettings
}

func newDurabilityRig(t *testing.T) *durabilityRig {
	t.Helper()
	rig := &durabilityRig{as: oauthtest.NewServer(), redis: redistest.Start(t)}
	t.Cleanup(rig.as.Close)
	rig.as.AddClient(oauthtest.Client{ID: "saas-client", Secret: "saas-secret", Scopes: []string{"read"}})
	rig.front = httptest.NewServer(http.HandlerFunc(rig.forward))
	t.Cleanup(rig.front.Close)
	rig.set = replicaSettings{Redis: rig.redis.Addr(), Prefix: fmt.Sprintf("durability-%d:", time.Now().UnixNano()),
		TokenURL: rig.front.URL, Seed: rig.as.IssueRefreshToken("saas-client", "alice", "read"),
		Key: hex.EncodeToString([]byte(strings.Repeat("k", redis.KeySize)))}
	return rig
}

// forward passes a token request to the authorization server, running the
// armed hook first on a refresh request.
func (rig *durabilityRig) forward(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if bytes.Contains(body, []byte("grant_type=refresh_token")) {
		if hook := rig.hook.Swap(nil); hook != nil && !(*hook)() {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, rig.as.TokenURL(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// onNextRefresh arms hook for the next refresh request.
func (rig *durabilityRig) onNextRefresh(hook func() bool) { rig.hook.Store(&hook) }

// settings returns the rig's replica settings with a state file of its own.
func (rig *durabilityRig) settings(t *testing.T, change func(*replicaSettings)) replicaSettings {
	set := rig.set
	set.StateFile = filepath.Join(t.TempDir(), "refresh-state.json")
	if change != nil {
		change(&set)
	}
	return set
}

// assertFamilyAlive checks that no refresh token was presented twice and
// none refused: the family was never revoked.
func (rig *durabilityRig) assertFamilyAlive(t *testing.T) {
	t.Helper()
	st := rig.as.RefreshStats()
	t.Logf("refresh tokens: %+v", st)
	assert.Zero(t, st.Reused, "a refresh token was presented twice")
	assert.Zero(t, st.Refused, "a refresh token was refused")
}

// stateToken reads the refresh token a replica's state file keeps, as an
// operator does to hand it to a replica as its new seed.
func stateToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var rec struct {
		T string `json:"t"`
	}
	require.NoError(t, json.Unmarshal(b, &rec))
	require.NotEmpty(t, rec.T)
	return rec.T
}

// Redis restarted empty: A and B each rotated, Redis lost everything, and
// A still remembers the token B has since used. A must not send it, nor
// must B trust what A wrote back; both report the uncertainty. An
// operator hands the newest token (B's state file) to a replica, and the
// family goes on.
func TestRefreshDurabilityStoreFlushed(t *testing.T) {
	rig := newDurabilityRig(t)
	setB := rig.settings(t, nil)
	a, b := startReplica(t, rig.settings(t, nil)), startReplica(t, setB)
	require.Equal(t, "ok", a.refresh())
	require.Equal(t, "ok", b.refresh())

	c := goredis.NewClient(&goredis.Options{Addr: rig.redis.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.FlushAll(context.Background()).Err())

	assert.Equal(t, "uncertain", a.refresh(), "A knows an older token than B used")
	assert.Equal(t, "uncertain", b.refresh(), "B cannot know that nobody rotated after it")
	rig.assertFamilyAlive(t)

	operator := startReplica(t, rig.settings(t, func(s *replicaSettings) { s.Seed = stateToken(t, setB.StateFile) }))
	assert.Equal(t, "ok", operator.refresh())
	assert.Equal(t, "ok", operator.refresh())
	rig.assertFamilyAlive(t)
}

// The link to Redis cut while B's refresh is at the server: B's rotated
// token does not reach the store, which still holds B's intent. A does not
// send the token B used; once the link is back, B writes its rotation
// back and A goes on with it.
func TestRefreshDurabilityLinkCutMidRotation(t *testing.T) {
	rig := newDurabilityRig(t)
	proxy := newCutProxy(t, rig.redis.Addr())
	a := startReplica(t, rig.settings(t, nil))
	b := startReplica(t, rig.settings(t, func(s *replicaSettings) { s.Redis = proxy.addr() }))
	require.Equal(t, "ok", a.refresh())

	rig.onNextRefresh(func() bool { proxy.cut(); return true })
	require.Equal(t, "ok", b.refresh(), "B has its access token, only its store is gone")
	assert.Equal(t, "uncertain", a.refresh(), "the store holds B's intent")
	rig.assertFamilyAlive(t)

	proxy.restore()
	answer := ""
	for range 300 { // B writes back within its backoff; a bound for a hang, not a measurement
		if answer = a.refresh(); answer == "ok" {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling a process, not synchronising goroutines
	}
	assert.Equal(t, "ok", answer)
	assert.Equal(t, "ok", b.refresh())
	rig.assertFamilyAlive(t)
}

// One instance on the memory store with a state file: it rotates twice,
// stops and starts again with the configuration's first token, and goes
// on with the newest one instead of sending the first again.
func TestRefreshDurabilityRestartWithStateFile(t *testing.T) {
	rig := newDurabilityRig(t)
	set := rig.settings(t, func(s *replicaSettings) { s.Redis = "" })
	one := startReplica(t, set)
	require.Equal(t, "ok", one.refresh())
	require.Equal(t, "ok", one.refresh())
	one.stop()
	info, err := os.Stat(set.StateFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again := startReplica(t, set)
	assert.Equal(t, "ok", again.refresh())
	rig.assertFamilyAlive(t)
	assert.GreaterOrEqual(t, rig.as.RefreshStats().Used, 5)
}

// The holder killed (SIGKILL) while its refresh request is in flight:
// nobody can know whether the server took the token, so no replica sends
// it; an operator who knows it was not taken (here: the request never
// reached the server) hands it to a replica as its new seed.
func TestRefreshDurabilityHolderKilled(t *testing.T) {
	rig := newDurabilityRig(t)
	setA := rig.settings(t, nil)
	a, b := startReplica(t, setA), startReplica(t, rig.settings(t, nil))
	require.Equal(t, "ok", a.refresh())

	rig.onNextRefresh(func() bool { _ = a.cmd.Process.Kill(); return false })
	_, err := io.WriteString(a.in, "refresh\n")
	require.NoError(t, err)
	_, alive := <-a.replies
	require.False(t, alive, "the holder was killed before it answered")

	assert.Equal(t, "uncertain", b.refresh(), "the store holds the dead holder's intent")
	rig.assertFamilyAlive(t)

	operator := startReplica(t, rig.settings(t, func(s *replicaSettings) { s.Seed = stateToken(t, setA.StateFile) }))
	assert.Equal(t, "ok", operator.refresh())
	rig.assertFamilyAlive(t)
}
