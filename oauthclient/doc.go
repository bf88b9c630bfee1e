// Package oauthclient fetches, caches, renews and attaches OAuth 2.0
// tokens for outgoing calls: client credentials (RFC 6749 §4.4) by default,
// and the other grants an integration service meets (see Grants below).
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
// Retry-After) and keeps serving a token that is still valid. Sources
// sharing a store that locks ([cache.Locker]: cache.NewMemory in a
// process, cache/redis in a fleet) share a fetch too: one holds the
// store's lock and fetches; the others take its token from the store.
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
// held in [Secret] (so are the values of [Config.Params]); they and tokens
// never appear in errors, logs, fmt, slog, JSON or YAML output. A definition removed from a registry, or a closed
// registry, releases its source's timers and token at once ([Source.Close]). A Source is an
// oauth2.TokenSource, and [FromOAuth2] feeds any oauth2.TokenSource into a
// Source. Tests use package oauthtest, a fake authorization server.
//
// # Telemetry
//
// Each source reports through the OpenTelemetry providers of its Options
// (default: the global ones, so a service that installs OpenTelemetry gets
// everything, and one that does not pays next to nothing). No convention
// exists for tokens yet; these instruments, on the meter
// "github.com/tokenwire/tokenwire/oauthclient", are tokenwire's:
//
//	name                             kind                unit        attributes                                    meaning
//	tokenwire.token.requests         Counter             {request}   definition, grant, outcome                    token requests the fetcher made (a token from the shared store makes none)
//	tokenwire.token.request.duration Histogram           s           definition, grant, outcome                    their duration
//	tokenwire.token.cache.lookups    ObservableCounter   {lookup}    definition, cache.result                      lookups by result: fresh, stale (served while renewing), miss (the caller waited), store (a fetch found the token in the shared store)
//	tokenwire.token.fetches          Counter             {fetch}     definition, grant, fetch.trigger              shared fetches started: background (renewal ahead of expiry, nobody waits) or caller (callers without a valid token wait)
//	tokenwire.token.wait.duration    Histogram           s           definition, grant, outcome                    how long each caller without a valid token waited (its count is the callers that waited)
//	tokenwire.token.resends          Counter             {resend}    definition, grant, resend.reason              requests the Transport sent again: unauthorized (401, fresh token) or dpop_nonce (new proof)
//	tokenwire.token.expiry           ObservableGauge     s           definition                                    seconds until the current token expires (negative once expired; absent without a token)
//	tokenwire.token.backoff          ObservableGauge     s           definition                                    seconds until the next token request is permitted after failures (0: not backing off)
//
// Attribute keys are tokenwire.definition, tokenwire.grant
// (client_credentials, jwt_bearer, token_exchange, refresh_token, login,
// imported, or custom for [NewSourceFrom]), tokenwire.outcome
// (success, an RFC 6749/8707/9449 error code such as invalid_client,
// other_code for a vendor's own code, malformed_response, http_error,
// timeout, canceled, closed, error, or refresh_uncertain for a refresh
// token held back, when no request was sent; for waits success or error),
// tokenwire.cache.result, tokenwire.fetch.trigger and
// tokenwire.resend.reason. Their values are bounded sets: never a secret,
// a token, a URL or a client id. The hot path records nothing: warm
// lookups are counted with atomics and reported by the observable counter
// at collection time, and fresh lookups only by the [Transport] (one atomic
// add in front of an HTTP call; on a bare Token or TokenContext it would
// double the cost), so a warm Token stays an atomic load with a real SDK
// installed. A closed or released source unregisters its observable
// instruments.
//
// A shared fetch is a span "tokenwire.token.fetch" of its own (a root: it
// outlives any one caller), with the definition, grant, trigger and outcome
// and an error status on failure; each caller that waits for it links its
// span to the fetch (trace.Link) and gets a "tokenwire.token.wait" event,
// and a token found in the shared store is a "tokenwire.store.hit" event.
// The token request's context carries the fetch span, so an instrumented
// Options.HTTPClient nests its own span under it. A Transport resend is a
// "tokenwire.token.resend" event on the request's span.
//
// The Logger receives: "token obtained" (Info, with the trigger and
// expiry), "renewing the token in the background" and "token taken from
// the shared store" (Debug), "token fetch failed; backing off" (Warn, with
// the consecutive failures, the wait and the error scrubbed of the
// definition's secrets), store read, write and lock failures (Warn), "token
// invalidated" and a 401 resend (Info), a DPoP nonce resend (Debug); each
// with the definition's name, never a secret or a token.
//
// # Grants
//
// [Config.Grant] names how a definition obtains its tokens; each grant gets
// the same [Source] — cached, renewed in the background, one fetch at a
// time, backoff, the shared store and its fleet lock, typed errors and
// redaction:
//
//   - [JWTBearer] (RFC 7523 §2.1): an assertion supplied from outside and
//     read anew for each request — a projected Kubernetes service-account
//     token ([FileSupplier]), a credential helper's output
//     ([CommandSupplier]: at most 64 KiB on each of standard output and
//     standard error, killed with its children at the fetch's deadline,
//     its arguments blanked from whatever it prints), a function
//     ([SupplierFunc]) — or signed by tokenwire with the definition's key
//     for a subject.
//   - [TokenExchange] (RFC 8693): a subject token (and actor token) from a
//     supplier or another definition ([Registry.Supplier]); the cache key
//     holds a hash of each, so two subjects never share an exchanged token,
//     which is never kept past its subject token's expiry.
//   - [RefreshToken] (RFC 6749 §6): a refresh token obtained once
//     (authorization code + PKCE: [AuthCodeURL], [ExchangeCode],
//     examples/authorize). A rotated token is durable before the old one
//     is forgotten — in the shared store ([cache.Strict], encrypted in
//     Redis) and in RefreshToken.StateFile when one is named, then told to
//     OnRotate; an intent written before each request and the family's
//     lock — in the process and in the fleet — mean a refresh token is
//     never sent twice; a replica that cannot be sure does not send
//     ([ErrRefreshUncertain]); invalid_grant is a [ReauthorizeError]
//     ([ErrReauthorize]) and is never sent again. The README's "Refresh
//     tokens" says what is durable where and what each failure does.
//   - [Login]: a vendor's login endpoint that is not OAuth, declared: the
//     request's shape, the token at a JSON path, its lifetime from a field
//     or the JWT's exp, the Authorization scheme.
//   - [Imported]: a token issued elsewhere, with its expiry, read again
//     from its supplier when it is due.
//
// What a grant costs on the hot path: nothing. A warm Token or
// TokenContext is the same atomic load for every grant
// (BenchmarkGrantToken: a few nanoseconds, no allocation); a grant's
// supplier, signature, store record or lock is touched only by the one
// fetch that renews the token.
//
// [Source.Status] and [Registry.Status] are snapshots for a status page or
// a health check: the token's state ([TokenState]: fresh, stale, expired,
// backing_off, none), expiry, last fetch, last error, counts and the
// store's [cache.Status].
package oauthclient
