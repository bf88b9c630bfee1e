package oauthclient_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// exchangeSetup is a server with a gateway client that exchanges and two
// clients whose tokens are the subjects.
func exchangeSetup(t *testing.T, clk *fakeClock) *oauthtest.Server {
	t.Helper()
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now))
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "gateway", Secret: "gw-secret", Scopes: []string{"orders.read"}})
	as.AddClient(oauthtest.Client{ID: "alice-app", Secret: "a-secret"})
	as.AddClient(oauthtest.Client{ID: "bob-app", Secret: "b-secret"})
	return as
}

func exchangeConfig(as *oauthtest.Server, subject oauthclient.Supplier) oauthclient.Config {
	return oauthclient.Config{Name: "orders", TokenURL: as.TokenURL(), ClientID: "gateway", ClientSecret: oauthclient.NewSecret("gw-secret"),
		Audience: "https://orders.example.com", Scopes: []string{"orders.read"},
		Grant: oauthclient.TokenExchange{SubjectToken: subject, RequestedTokenType: "urn:ietf:params:oauth:token-type:access_token"}}
}

// The subject token comes from another definition of the registry, looked
// up at each use; the exchanged token stands for that subject.
func TestExchangeSubjectFromAnotherDefinition(t *testing.T) {
	clk := newFakeClock(time.Now())
	as := exchangeSetup(t, clk)
	reg := oauthclient.NewRegistry(oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true})
	t.Cleanup(func() { _ = reg.Close() })
	require.NoError(t, reg.Define(oauthclient.Config{Name: "me", TokenURL: as.TokenURL(), ClientID: "alice-app", ClientSecret: oauthclient.NewSecret("a-secret")}))
	require.NoError(t, reg.Define(exchangeConfig(as, reg.Supplier("me"))))
	src, err := reg.Source("orders")
	require.NoError(t, err)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	info, ok := as.TokenInfo(tok.AccessToken())
	require.True(t, ok)
	assert.Equal(t, "alice-app", info.Subject)
	assert.Equal(t, "gateway", info.ClientID)
	assert.Equal(t, "urn:ietf:params:oauth:grant-type:token-exchange", info.Grant)
	assert.Equal(t, "urn:ietf:params:oauth:token-type:access_token", tok.Extra("issued_token_type"))
	req, _ := as.LastRequest()
	assert.Equal(t, "https://orders.example.com", req.Form.Get("audience"))
	assert.Equal(t, "urn:ietf:params:oauth:token-type:access_token", req.Form.Get("subject_token_type"))
	assert.Equal(t, "token_exchange", src.Status().Grant)
}

// Two subjects never share an exchanged token: not in one source whose
// subject changes, not between sources sharing a store — under many
// concurrent callers.
func TestExchangeTwoSubjectsNeverShare(t *testing.T) {
	clk := newFakeClock(time.Now())
	as := exchangeSetup(t, clk)
	opts := oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true}
	subject := func(id, secret string) *oauthclient.Source {
		s, err := oauthclient.NewSource(oauthclient.Config{Name: id, TokenURL: as.TokenURL(), ClientID: id, ClientSecret: oauthclient.NewSecret(secret)}, opts)
		require.NoError(t, err)
		t.Cleanup(s.Close)
		return s
	}
	alice, bob := subject("alice-app", "a-secret"), subject("bob-app", "b-secret")
	store := cache.NewMemory(100, cache.WithClock(clk.Now))
	withStore := opts
	withStore.Store = store
	exchanger := func(sub *oauthclient.Source) *oauthclient.Source {
		s, err := oauthclient.NewSource(exchangeConfig(as, oauthclient.SourceSupplier(sub)), withStore) // the same definition but for its subject
		require.NoError(t, err)
		t.Cleanup(s.Close)
		return s
	}
	ex := map[string][]*oauthclient.Source{"alice-app": {exchanger(alice), exchanger(alice)}, "bob-app": {exchanger(bob), exchanger(bob)}}

	var wg sync.WaitGroup
	var wrong atomic.Int32
	for want, srcs := range ex {
		for _, s := range srcs {
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tok, err := s.TokenContext(context.Background())
					if !assert.NoError(t, err) {
						return
					}
					if info, _ := as.TokenInfo(tok.AccessToken()); info.Subject != want {
						wrong.Add(1)
					}
				}()
			}
		}
	}
	wg.Wait()
	assert.Zero(t, wrong.Load(), "an exchanged token served for the wrong subject")

	// One source whose supplier switches subject: its next fetch neither
	// reuses nor takes from the store the other subject's token.
	var cur atomic.Pointer[oauthclient.Source]
	cur.Store(alice)
	sw, err := oauthclient.NewSource(exchangeConfig(as, oauthclient.SupplierFunc(func(ctx context.Context) (string, time.Time, error) {
		return oauthclient.SourceSupplier(cur.Load()).Supply(ctx)
	})), withStore)
	require.NoError(t, err)
	t.Cleanup(sw.Close)
	tok, err := sw.TokenContext(context.Background())
	require.NoError(t, err)
	info, _ := as.TokenInfo(tok.AccessToken())
	assert.Equal(t, "alice-app", info.Subject)
	cur.Store(bob)
	clk.Advance(2 * time.Hour) // everything expired: subjects and exchanged tokens
	tok, err = sw.TokenContext(context.Background())
	require.NoError(t, err)
	info, _ = as.TokenInfo(tok.AccessToken())
	assert.Equal(t, "bob-app", info.Subject)
}

// An exchanged token is never kept past its subject token's expiry, and an
// expired subject token is refused before it is sent.
func TestExchangeLifetimeBoundBySubject(t *testing.T) {
	clk := newFakeClock(time.Now())
	as := exchangeSetup(t, clk)
	subjectExp := clk.Now().Add(5 * time.Minute) // the server issues 1h tokens
	var expiry atomic.Int64
	expiry.Store(subjectExp.UnixNano())
	subjectTok := ""
	sup := oauthclient.SupplierFunc(func(context.Context) (string, time.Time, error) {
		return subjectTok, time.Unix(0, expiry.Load()), nil
	})
	sub, err := oauthclient.NewSource(oauthclient.Config{Name: "me", TokenURL: as.TokenURL(), ClientID: "alice-app", ClientSecret: oauthclient.NewSecret("a-secret")},
		oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(sub.Close)
	st, err := sub.TokenContext(context.Background())
	require.NoError(t, err)
	subjectTok = st.AccessToken()

	src, err := oauthclient.NewSource(exchangeConfig(as, sup), oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, subjectExp.UnixNano(), tok.Expiry().UnixNano(), "capped at the subject token's expiry")

	clk.Advance(6 * time.Minute)
	n := as.Requests("")
	_, err = src.TokenContext(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "subject token: expired at")
	assert.NotContains(t, err.Error(), subjectTok)
	assert.Equal(t, n, as.Requests(""))
}

// A subject the server does not honour is invalid_grant; an actor token is
// sent with its type.
func TestExchangeValidationAndActor(t *testing.T) {
	clk := newFakeClock(time.Now())
	as := exchangeSetup(t, clk)
	bogus := oauthclient.ValueSupplier(oauthclient.NewSecret("not-a-token-of-this-server"), time.Time{})
	src, err := oauthclient.NewSource(exchangeConfig(as, bogus), oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	_, err = src.TokenContext(context.Background())
	require.ErrorIs(t, err, oauthclient.ErrInvalidGrant)
	assert.NotContains(t, err.Error(), "not-a-token-of-this-server")

	reg := oauthclient.NewRegistry(oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true})
	t.Cleanup(func() { _ = reg.Close() })
	require.NoError(t, reg.Define(oauthclient.Config{Name: "alice", TokenURL: as.TokenURL(), ClientID: "alice-app", ClientSecret: oauthclient.NewSecret("a-secret")}))
	require.NoError(t, reg.Define(oauthclient.Config{Name: "bob", TokenURL: as.TokenURL(), ClientID: "bob-app", ClientSecret: oauthclient.NewSecret("b-secret")}))
	cfg := exchangeConfig(as, reg.Supplier("alice"))
	cfg.Grant = oauthclient.TokenExchange{SubjectToken: reg.Supplier("alice"), ActorToken: reg.Supplier("bob")}
	src2, err := oauthclient.NewSource(cfg, oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src2.Close)
	tok, err := src2.TokenContext(context.Background())
	require.NoError(t, err)
	info, _ := as.TokenInfo(tok.AccessToken())
	assert.Equal(t, "alice-app", info.Subject)
	assert.Equal(t, "bob-app", info.Actor)

	// An unknown definition is a clear error, not a panic.
	cfg.Grant = oauthclient.TokenExchange{SubjectToken: reg.Supplier("nobody")}
	src3, err := oauthclient.NewSource(cfg, oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(src3.Close)
	_, err = src3.TokenContext(context.Background())
	assert.True(t, errors.Is(err, oauthclient.ErrUnknownDefinition), "%v", err)

	_, err = oauthclient.NewSource(oauthclient.Config{Name: "x", TokenURL: as.TokenURL(), Grant: oauthclient.TokenExchange{}}, oauthclient.Options{AllowInsecureHTTP: true})
	var ce *oauthclient.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "subject_token", ce.Field)
}
