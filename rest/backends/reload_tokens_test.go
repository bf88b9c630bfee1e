package backends

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// TestReloadKeepsTokensOfUnchangedDefinitions counts token requests at
// the authorization server: a reload that changes b-oauth alone fetches
// b's token again and never a's, and leaves unchanged connections as the
// same *Conn.
func TestReloadKeepsTokensOfUnchangedDefinitions(t *testing.T) {
	f := newReloadFixture(t, nil)
	f.get(t, "crm")
	f.get(t, "erp")
	require.Equal(t, 1, f.as.Requests("a"))
	require.Equal(t, 1, f.as.Requests("b"))
	crm, err := f.reg.REST("crm")
	require.NoError(t, err)

	rep := f.reload(t, edit(t, "client_id: b,", "client_id: b, scopes: [erp.read],"))
	assert.Equal(t, []string{"b-oauth"}, rep.Security.Changed)
	assert.Equal(t, []string{"a-oauth", "key"}, rep.Security.Unchanged)
	for range 3 {
		f.get(t, "crm")
		f.get(t, "erp")
		f.get(t, "billing")
	}
	assert.Equal(t, 1, f.as.Requests("a"), "a-oauth did not change: its token is kept")
	assert.Equal(t, 2, f.as.Requests("b"), "b-oauth changed: one new token")
	again, err := f.reg.REST("crm")
	require.NoError(t, err)
	assert.Same(t, crm, again, "an unchanged connection is the same *Conn")

	rep = f.reload(t, edit(t, "client_id: b,", "client_id: b, scopes: [erp.read],"))
	assert.False(t, rep.Changed(), "the same file again changes nothing: %s", rep)
	f.get(t, "erp")
	assert.Equal(t, 2, f.as.Requests("b"))
}

// TestReloadHeldConnections: what a caller that looked a connection up
// before the reload and kept it gets.
func TestReloadHeldConnections(t *testing.T) {
	ctx := context.Background()
	t.Run("changed connection, unchanged definition: keeps working", func(t *testing.T) {
		f := newReloadFixture(t, nil)
		held, err := f.reg.REST("crm")
		require.NoError(t, err)
		require.NoError(t, drainBody(held.Get(ctx, "x")))
		f.reload(t, edit(t, "security: a-oauth}", "security: a-oauth, headers: {Accept: application/json}}"))
		require.NoError(t, drainBody(held.Get(ctx, "x")), "the old *Conn still works, with its token")
		assert.Equal(t, 1, f.as.Requests("a"))
	})
	t.Run("removed connection with static credentials: keeps working", func(t *testing.T) {
		f := newReloadFixture(t, nil)
		held, err := f.reg.REST("billing")
		require.NoError(t, err)
		f.reload(t, edit(t, "  billing: {base_url: '${URL}/billing', security: key, tls: {ca_file: '${CA}'}}\n", ""))
		_, err = f.reg.REST("billing")
		assert.ErrorIs(t, err, ErrUnknownConnection)
		require.NoError(t, drainBody(held.Get(ctx, "x")))
	})
	t.Run("changed definition: the old source serves its grace, then is closed", func(t *testing.T) {
		f := newReloadFixture(t, nil)
		held, err := f.reg.REST("crm")
		require.NoError(t, err)
		f.get(t, "crm")
		f.as.AddClient(oauthtest.Client{ID: "a", Secret: "A-SECRET-2", Scopes: []string{"crm.read"}})
		f.vars["A_SECRET"] = "A-SECRET-2"
		f.reload(t, reloadBase)
		require.NoError(t, drainBody(held.Get(ctx, "x")), "a retry of a call in flight still gets a token")
		f.get(t, "crm") // looked up again: the new definition
		require.NoError(t, f.reg.Close())
		_, err = held.Get(ctx, "x")
		assert.ErrorIs(t, err, ErrClosed, "the registry closed the retired source")
	})
	t.Run("removed definition: the old source is closed", func(t *testing.T) {
		f := newReloadFixture(t, nil)
		held, err := f.reg.REST("erp")
		require.NoError(t, err)
		f.reload(t, edit(t, "  b-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: b, client_secret: '${B_SECRET}'}\n", "",
			"  erp: {base_url: '${URL}/erp', security: b-oauth}\n", ""))
		_, err = held.Get(ctx, "x")
		assert.ErrorIs(t, err, ErrClosed)
		_, err = f.reg.securityOf("b-oauth")
		assert.Error(t, err, "the definition is gone")
	})
}
