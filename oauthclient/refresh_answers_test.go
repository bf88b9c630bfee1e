package oauthclient_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// Probes of the refresh token family's rule: a lost answer, a definition
// changed, a holder restarted before its write-back — in none is a
// refresh token presented twice to the server.

// A replica whose refresh request reached the server (which rotated the
// token) but whose answer was lost — a gateway's 504, a reset link, the
// request's deadline — cannot know whether the server took the token,
// exactly as after a kill -9. It must not present the token again.
func TestRefreshProbeHolderAfterLostAnswer(t *testing.T) {
	rig := newDurabilityRig(t)
	front := newLostAnswerFront(t, rig)
	a := startReplica(t, rig.settings(t, func(s *replicaSettings) { s.TokenURL = front.srv.URL }))
	require.Equal(t, "ok", a.refresh())

	front.onNextRefresh(func() {})
	require.NotEqual(t, "ok", sentRefresh(rig, a), "the answer was lost")
	answer := sentRefresh(rig, a)
	rig.assertFamilyAlive(t)
	assert.Equal(t, "uncertain", answer, "the server took the token: sending it again is a reuse")
}

// The family is named by the refresh token's value (doc.go): a
// definition changed in another field (its scopes narrowed, another
// audience or auth method) still holds the same family. A single
// instance on the memory store with a state file, its definition changed
// and the process restarted, must go on with the newest token, not the
// configuration's first one.
func TestRefreshProbeDefinitionChangeKeepsTheFamily(t *testing.T) {
	rig := newDurabilityRig(t)
	stateFile := filepath.Join(t.TempDir(), "refresh-state.json")
	grant := oauthclient.RefreshToken{Token: oauthclient.ValueSupplier(oauthclient.NewSecret(rig.set.Seed), time.Time{}), StateFile: stateFile}
	cfg := oauthclient.Config{Name: "saas", TokenURL: rig.as.TokenURL(), ClientID: "saas-client",
		ClientSecret: oauthclient.NewSecret("saas-secret"), Scopes: []string{"read"}, Grant: grant}
	opts := oauthclient.Options{AllowInsecureHTTP: true}
	ctx := context.Background()

	before, err := oauthclient.NewSource(cfg, opts)
	require.NoError(t, err)
	tok, err := before.TokenContext(ctx)
	require.NoError(t, err)
	before.Invalidate(tok)
	_, err = before.TokenContext(ctx)
	require.NoError(t, err)
	before.Close()
	require.Equal(t, 2, rig.as.RefreshStats().Used)

	cfg.Scopes = nil // the definition changed: the same refresh token, all the scopes it was granted
	after, err := oauthclient.NewSource(cfg, opts)
	require.NoError(t, err)
	t.Cleanup(after.Close)
	_, err = after.TokenContext(ctx)
	assert.NoError(t, err)
	rig.assertFamilyAlive(t)
}

// The link to Redis cut while B's refresh is at the server, and B
// restarted before the link is back (a deploy, a crash loop): B's state
// file holds the rotated token (it is written before the store), and the
// store still holds B's own intent for the generation before it. Nobody
// else can have learnt the rotated token, so B could be sure; but a
// restarted process has a new name and does not know that the write to
// the store failed, and the whole fleet waits for an operator.
func TestRefreshProbeHolderRestartedBeforeItsWriteBack(t *testing.T) {
	rig := newDurabilityRig(t)
	proxy := newCutProxy(t, rig.redis.Addr())
	a := startReplica(t, rig.settings(t, nil))
	setB := rig.settings(t, func(s *replicaSettings) { s.Redis = proxy.addr() })
	b := startReplica(t, setB)
	require.Equal(t, "ok", a.refresh())

	rig.onNextRefresh(func() bool { proxy.cut(); return true })
	require.Equal(t, "ok", b.refresh())
	b.stop()
	proxy.restore()

	again := startReplica(t, setB)
	answer := again.refresh()
	rig.assertFamilyAlive(t)
	assert.Equal(t, "ok", answer, "B's restarted process holds the only copy of the newest token")
	assert.Equal(t, "ok", a.refresh())
}
