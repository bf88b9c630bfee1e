// Package oauthclient fetches, caches, renews and attaches OAuth 2.0
// client-credentials tokens (RFC 6749 §4.4) for outgoing calls.
//
// A [Config] is one security definition: a token endpoint (or a discovery
// document that names it: [Config.DiscoveryURL], [SMARTBackendServices]), a client, the
// way it authenticates (client_secret_basic, client_secret_post,
// client_secret_jwt, private_key_jwt, tls_client_auth, none, or a custom
// [ClientAuth]), scopes,
// audience and resource indicators. [NewSource] turns it into a [Source],
// which keeps the current token and hands it out with one atomic load —
// no lock, no allocation. A token entering its renewal window
// ([DefaultRenewWindow]: 10 % of its lifetime, between 10 s and 5 min) is
// renewed once in the background while callers keep using it; callers with
// no valid token share one fetch, each bounded by its own context. After a
// failure the source backs off (exponential, jittered, honouring
// Retry-After) and keeps serving a token that is still valid.
//
// A [Transport] attaches the token to requests for the origins it is given,
// and only those; on a 401 it invalidates that token and retries once. A
// DPoP definition ([Config.DPoP], RFC 9449) gets sender-constrained tokens:
// every request carries a fresh proof of the definition's key, and a
// use_dpop_nonce challenge is answered once with the server's nonce. A
// [Registry] holds definitions by name:
//
//	reg := oauthclient.NewRegistry(oauthclient.Options{Store: cache.NewMemory(0)})
//	defer reg.Close() // stops every source's timers and drops its token
//	err := reg.Define(oauthclient.Config{
//		Name:         "crm",
//		TokenURL:     "https://login.example.com/oauth2/token",
//		ClientID:     "integration",
//		ClientSecret: oauthclient.NewSecret(os.Getenv("CRM_SECRET")),
//		Scopes:       []string{"customers.read"},
//	})
//	client, err := reg.Client("crm", "https://crm.example.com")
//	resp, err := client.Get("https://crm.example.com/customers/42")
//
// Token endpoint failures are *[Error] values whose RFC 6749 code matches
// sentinels such as [ErrInvalidClient] with errors.Is. Secrets and keys are
// held in [Secret]; they and tokens never appear in errors, logs, fmt, slog,
// JSON or YAML output. A definition removed from a registry, or a closed
// registry, releases its source's timers and token at once ([Source.Close]). A Source is an
// oauth2.TokenSource, and [FromOAuth2] feeds any oauth2.TokenSource into a
// Source. Tests use package oauthtest, a fake authorization server.
package oauthclient
