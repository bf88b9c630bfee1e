// Package oauthtest provides a fake OAuth 2.0 authorization server for
// tests, as net/http/httptest provides a fake HTTP server: start one with
// [NewServer], register the clients of the code under test with
// [Server.AddClient], point that code at [Server.TokenURL], and check what
// it asked ([Server.Requests]) and the tokens a fake backend receives
// ([Server.RequireToken]).
//
// A [Server] runs on net/http/httptest (127.0.0.1) and issues
// client-credentials tokens (RFC 6749 §4.4) to its clients — a [Client]
// says how it authenticates, with which secret, key or certificate, and
// which scopes it may ask for — and knows the other grants an integration
// service meets:
// JWT bearer assertions of issuers it trusts ([Server.AddAssertionIssuer],
// RFC 7523 §2.1, signatures checked), token exchange with its subject and
// actor tokens validated (RFC 8693), refresh tokens with rotation and
// reuse detection — a refresh token used twice revokes its whole family
// ([Server.IssueRefreshToken], [Server.RefreshStats]) — and the
// authorization code grant with PKCE S256 for loopback redirects
// ([Server.AuthorizeURL], RFC 7636, RFC 8252 §7.3). A vendor login that is
// not OAuth ([Server.LoginURL], [Server.AddLoginUser]) answers a JWT at
// data.jwt. [Server.TokenInfo] tells whom a token stands for.
// It checks client authentication as a real server does —
// client_secret_basic, client_secret_post, client_secret_jwt and
// private_key_jwt (RFC 7523), tls_client_auth (RFC 8705, with
// [NewTLSServer]) and public clients — and
// answers RFC 6749 §5.2 errors when a client gets it wrong. It counts the
// requests it receives, so a test can prove that a cache asked only once, and
// it misbehaves on demand: latency ([Server.SetLatency]), failures
// ([Server.FailNext]) and unusual response shapes ([Server.SetShape]).
//
// The server's clock is injectable ([WithClock]), so tests
// move time forward instead of sleeping. A fake backend checks the tokens the
// server issued with [Server.Valid] or wraps its handler in
// [Server.RequireToken].
//
//	as := oauthtest.NewServer()
//	defer as.Close()
//	as.AddClient(oauthtest.Client{ID: "crm", Secret: "s3cret", Scopes: []string{"read"}})
//	// point the code under test at as.TokenURL() with client "crm" / "s3cret"
//	if as.Requests("crm") != 1 { ... }
//
// The package speaks the wire protocol only; it does not depend on
// tokenwire's oauthclient, so it can test any OAuth 2.0 client.
package oauthtest
