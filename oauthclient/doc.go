// Package oauthclient fetches, caches, renews and attaches OAuth 2.0
// tokens for outgoing calls: client credentials (RFC 6749 §4.4) by default,
// and the other grants an integration service meets (see Grants below).
//
// A [Config] is one security definition: a token endpoint (or a discovery
// document that names it: [Config.DiscoveryURL], [SMARTBackendServices]), a client, the
// way it authenticates (client_secret_basic, client_secret_post,
// client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth
// or none), scopes, audience and resource indicators. [NewSource] turns it into a [Source],
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
//	if err != nil {
//		return err // names the definition and the field
//	}
//	client, err := reg.Client("crm", "https://crm.example.com")
//	if err != nil {
//		return err
//	}
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
//     ([ErrReauthorize]) and is never sent again. The section "Refresh
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
//
// # How a token is served
//
// A Source keeps the current token behind an atomic pointer.
//
//   - Fresh: returned by one atomic load — no lock, no allocation.
//   - Stale (inside the renewal window, by default 10 % of its lifetime
//     bounded to [10 s, 5 min]): returned at once; the first caller to notice
//     starts one background renewal.
//   - Missing or expired: callers wait for one shared fetch; each caller's
//     context bounds only its own wait, never the fetch the others wait on.
//   - Failing authorization server: a still-valid token keeps being
//     served; fetches back off exponentially with jitter, honour Retry-After,
//     and start higher for errors that will not fix themselves
//     (invalid_client, invalid_scope…); after failures that may fix
//     themselves (unreachable, 5xx) the wait is capped by MaxRecovery (30 s),
//     so a server that answers again after a long outage is noticed within
//     that (BenchmarkRecoveryAfterOutage: 21–25 s after a one-hour outage, 125
//     attempts in that hour). However many callers there are, at most one
//     fetch is in flight. A caller with no valid token waits for the
//     next permitted attempt when it comes within MaxBackoffWait (3 s) and
//     its context's deadline — all such callers share that attempt — and
//     otherwise fails at once with a *BackoffError.
//   - Sources sharing a store share a fetch. The sources of a process
//     that share cache.NewMemory (a registry's, or several registries')
//     make one token request between them on a cold start, as a fleet sharing
//     Redis does: the memory store is a cache.Locker too, so one source
//     holds its lock (in the process, expiring after LockTTL on the store's
//     clock) and fetches, and the others wake when it releases the lock and
//     take its token from the store. A holder whose request failed keeps the
//     lock until it expires and makes its next attempts, at its backoff's
//     pace, under it, so that twenty sources make one source's attempts
//     against a failing server, not twenty (a source alone on the store is
//     never kept waiting for its own lock; closing it releases the lock).
//
// Token endpoints are parsed as vendors really answer: JSON or form bodies
// whatever the content type, expires_in as a number, string or float (capped
// at 30 days; absent: a legacy expires, else the exp claim of a JWT
// access token, else DefaultLifetime, 1 h), any case of token_type
// or Apigee's BearerToken, RFC 6749 errors sent with status 200, HTML pages
// from proxies, empty bodies. Errors are *oauthclient.Error and match
// oauthclient.ErrInvalidClient and friends with errors.Is. Secrets, keys
// and tokens never appear in errors, logs or fmt output.
//
// # Sender-constrained tokens: DPoP
//
// With dpop: true (or a dpop_key), a definition's tokens are bound to a
// key (RFC 9449). Token requests carry a proof of possession; a DPoP-bound
// token goes out as Authorization: DPoP <token> with a fresh proof on every
// request (htm, htu without query, iat, jti, ath = the token's
// hash), and only to the connection's origin. When a token endpoint or a
// resource server answers use_dpop_nonce, the request is proved again once
// with the nonce it sent; nonces are kept per origin and refreshed from every
// response. This composes with the 401 → new token → resend once, and never
// loops. Without a dpop_key an EC P-256 key is generated in memory, so each
// replica has its own key and its own tokens: the key's thumbprint is part of
// the cache key, and a replica never takes from Redis a token it cannot
// prove. Give the fleet one dpop_key to share them. A DPoP-proved GET costs
// an ES256 signature more than a Bearer one (BenchmarkDPoPGET); Bearer calls
// stay allocation-free on the token path.
//
// # Sender-constrained tokens: mutual TLS
//
// With AuthMethod tls_client_auth or self_signed_tls_client_auth (RFC
// 8705), a definition authenticates with its client certificate, which is
// always presented when a server asks for one, whatever CAs it names (Go's
// default choice would withhold a self-signed one); a discovered token
// endpoint is replaced by its mtls_endpoint_aliases entry. The token
// server binds the tokens to the certificate (cnf.x5t#S256), so the
// [Transport] and [NewClient] present the same certificate to the resource
// server: each certificate gets its own clone of the base transport, and a
// token goes out only over connections presenting the certificate it was
// fetched with. The certificate's SHA-256 thumbprint is part of the cache
// key, in memory and in the shared store: two certificates of one client
// never share a token. A base transport presenting a fixed certificate of
// its own keeps it, and a bound token whose certificate is another fails
// with [ErrCertificateMismatch] before the request leaves.
//
// Config.CertFile and KeyFile name PEM files that are read again when
// they change on disk: at most once a second (two stats on the source's
// clock, Options.Now), at a new TLS connection or before a token fetch —
// never on the warm path, which stays one atomic load. The next handshake
// presents the new pair; the token bound to the old one is dropped and
// the next call fetches one for the new. A pair that does not load (half
// written, mismatched) leaves the certificate in use as it is, with a
// warning in the log.
//
//	src, err := oauthclient.NewSource(oauthclient.Config{
//		Name:       "partner",
//		Issuer:     "https://login.partner.example.com",
//		ClientID:   "partner-client",
//		AuthMethod: oauthclient.AuthTLSClientAuth,
//		CertFile:   "/var/run/secrets/partner/tls.crt", // a Kubernetes secret volume: ..data swaps are seen
//		KeyFile:    "/var/run/secrets/partner/tls.key",
//	}, oauthclient.Options{})
//	if err != nil {
//		return err
//	}
//	defer src.Close()
//	client, err := oauthclient.NewClient(src, "https://api.partner.example.com") // presents the certificate too
//
// In a configuration file the same definition is written with cert_file
// and key_file; see package rest/backends, "Mutual TLS".
//
// # Grants beyond client credentials
//
// A definition's grant says how its tokens are obtained; every grant gets
// the same source — cached, renewed in the background, one fetch at a time,
// backoff, the shared store and its fleet lock, typed errors, redaction —
// and the same hot path (below). A credential issued elsewhere (an
// assertion, a subject token, a refresh token, an imported token) is read
// from a *supplier* each time a token request needs it, so one rotated where
// it lives is picked up without a restart: {file: /path} (read anew),
// {command: [helper, arg]} (run each time; its standard output and its
// standard error may hold 64 KiB each — a helper that prints more is
// stopped and refused —; killed, with every process it started, at the
// definition's timeout; its arguments never print, and are blanked, in
// any encoding, from what it prints before that reaches an error, a log or
// the status page),
// {value: ${VAR}}, or, for a token exchange, {definition: other}
// (another definition's current token).
//
// In a configuration file (package rest/backends) a definition is a
// [Config]: its keys are the json and yaml tags of Config's fields and of
// its grant's (JWTBearer, TokenExchange, RefreshToken, Login, Imported),
// written side by side, and the fields' doc comments are their reference.
// [Config.Validate] checks a definition as NewSource would, without
// building anything that runs: that is how the file is checked. Every
// grant, as a file declares it:
//
//		security:
//		  crm-workload:                    # JWT bearer (RFC 7523 §2.1): a workload identity
//		    type: oauth2
//		    grant: jwt_bearer
//		    token_url: https://login.example.com/oauth2/token
//		    assertion: {file: /var/run/secrets/tokens/crm}   # a projected service-account token, rotated by the kubelet
//		    scopes: [crm.read]
//		  drive-robot:                     # JWT bearer, the assertion signed by tokenwire
//		    type: oauth2
//		    grant: jwt_bearer
//		    token_url: https://oauth2.example.com/token
//		    client_id: robot@example.iam                     # iss (or assertion_issuer)
//		    private_key: file:/run/secrets/robot.pem         # key_id, signing_alg, assertion_audience, assertion_lifetime as for private_key_jwt
//		    assertion_subject: admin@acme.example
//		    assertion_claims: {scope: "https://example.com/auth/drive.readonly"}
//		  orders:                          # token exchange (RFC 8693)
//		    type: oauth2
//		    grant: token_exchange
//		    token_url: https://sts.example.com/token
//		    client_id: gateway
//		    client_secret: ${GATEWAY_SECRET}
//		    audience: https://orders.example.com             # audience, resources, scopes are the exchange's
//		    subject_token: {definition: crm-workload}        # or a file, a command, a value
//		    subject_token_type: access_token                 # default; jwt, id_token, refresh_token, saml1, saml2 or a URN
//		    actor_token: {file: /run/secrets/actor}          # optional, with actor_token_type
//		    requested_token_type: access_token               # optional
//		  drive:                           # refresh token (RFC 6749 §6), authorised once
//		    type: oauth2
//		    grant: refresh_token
//		    token_url: https://login.example.com/oauth2/token
//		    client_id: integration
//		    client_secret: ${DRIVE_SECRET}                   # or none: a public client
//		    refresh_token: {file: /var/lib/integration/drive-refresh-token}   # written by examples/authorize
//		    refresh_state_file: /var/lib/integration/drive-refresh-state     # optional: rotations survive a restart
//		  vendor:                          # a login endpoint that is not OAuth
//		    type: login
//		    token_url: https://vendor.example.com/api/v2/auth/login
//		    method: POST                                     # default; PUT, or GET (fields in the query)
//		    body: json                                       # default; form
//		    client_id: svc-integration
//		    client_secret: ${VENDOR_PASSWORD}
//		    client_id_field: credentials.username            # dotted names nest in a JSON body
//		    client_secret_field: credentials.password
//		    fields: {tenant: acme, apiVersion: "2"}          # constants, ${VAR}, file:
//		    headers: {X-Api-Key: "${VENDOR_KEY}"}            # optional; auth_method: client_secret_basic for Basic
//		    token_path: data.jwt                             # where the token is in the answer
//		    expires_in_path: data.expiresIn                  # optional: seconds; or expires_at_path: RFC 3339 or Unix seconds
//		    scheme: Bearer                                   # the Authorization scheme sent (default Bearer)
//		  partner:                         # an imported token: issued elsewhere, with its expiry
//		    type: bearer
//		    token_from: {file: /run/secrets/partner-token}   # read again when it is due
//		    expires_at: "2026-12-31T00:00:00Z"               # when it is no JWT with exp; else default_lifetime
//
//	  - JWT bearer. A supplied assertion is sent as it is, read anew for
//	    each token request; one whose exp has passed is refused before it is
//	    sent ("assertion: expired at …: is its file being rotated?"). A signed
//	    one gets a fresh jti and exp each time. Client authentication is
//	    optional with this grant: with no auth_method, client_secret_basic
//	    when there is a secret, none otherwise. The cache key holds the
//	    assertion's issuer, subject and audience, so definitions asserting
//	    different subjects never share a token, while the replicas of one
//	    service account do.
//	  - Token exchange. The cache key holds a hash of the subject token (and
//	    actor token) — never the value — so two subjects never share an
//	    exchanged token, in one process or through Redis (a known bug class of
//	    token caches). An exchanged token is never kept past its subject
//	    token's expiry (the supplier's, else the JWT's exp), and an expired
//	    subject token is refused before it is sent. {definition: name} takes
//	    the other definition's token as it is at each fetch (after a reload, the
//	    new definition's); cycles are refused at load time.
//	  - Refresh token with rotation. The refresh token in the file names its
//	    *family*; rotations are kept as the next section says, so the file need
//	    never be rewritten. invalid_grant (expired, revoked, reused) stops
//	    renewal: the error matches oauthclient.ErrReauthorize and
//	    ErrInvalidGrant and says an administrator must authorise again; the
//	    family is marked refused, and no replica sends it again — until the file
//	    holds a new refresh token, which starts a new family at the next attempt,
//	    without a restart.
//	  - Authorising once. `go run ./examples/authorize -config tokenwire.yaml
//	    -definition drive -authorize-url https://login.example.com/oauth2/authorize`
//	    prints (or, with -open, opens) the authorization URL, receives the code
//	    on a loopback redirect (http://127.0.0.1:<port>/callback, RFC 8252
//	    §7.3), checks the state, redeems the code with its PKCE S256 verifier
//	    (RFC 7636), and writes the refresh token to the definition's file (mode
//	    0600, atomically). It never prints the refresh token, the code or the
//	    verifier. oauthclient.AuthCodeURL, NewPKCE and ExchangeCode are the
//	    same steps for a program of your own.
//	  - Login endpoints. A non-2xx answer is an *oauthclient.Error with the
//	    status and a short excerpt scrubbed of the definition's secrets (the
//	    password, every field and header value) and of anything that looks like
//	    a token; a 2xx answer without a token at token_path matches
//	    ErrMalformedResponse. Lifetime: expires_in_path, else
//	    expires_at_path, else the JWT's exp, else default_lifetime.
//	  - Imported tokens. Read again when they enter their renewal window; a
//	    token read past its expiry fails with an error matching
//	    oauthclient.ErrExpired ("replace it where it is read from"). They are
//	    never put in the shared store.
//
// Each grant is tested against oauthtest, which knows them all: JWT bearer
// assertions of issuers it trusts (signatures checked), token exchange with
// the subject validated, refresh tokens with rotation and reuse detection (a
// refresh token used twice revokes its family), the authorization code grant
// with PKCE for loopback redirects, and a vendor login endpoint. The proof of
// rotation in a fleet, TestRefreshFleetUsesEachTokenOnce, runs twenty
// replicas as twenty processes on one real Redis, renewing through one family
// for three seconds: every refresh token is used exactly once, and none is
// ever refused.
//
// What each grant costs on the hot path (BenchmarkGrantToken, warm
// TokenContext, same run): client credentials 4.8 ns, JWT bearer 4.4 ns,
// token exchange 4.8 ns, refresh token 4.5 ns, login 4.5 ns, imported
// 4.3 ns serial; 3.1–3.3 ns parallel; no allocation for any. It is the same
// atomic load: a grant's supplier, signature, store record and locks are
// touched only by the one fetch that renews the token.
//
// # Refresh tokens
//
// A refresh token is the one credential that cannot be fetched again: lose
// the newest one and an administrator must authorise again; send one twice
// and a server with reuse detection revokes the whole family. tokenwire
// treats a rotation like a database treats a commit.
//
// What is durable where. Before a refresh request leaves, its *intent*
// (which replica sends which generation) is written to the places of
// record; when the server rotates the token, the new one is written there
// before the call returns, and only then told to OnRotate (for code that
// keeps it elsewhere). The places of record are:
//
//	| where | when | survives |
//	| the Redis store | the definition uses store: redis | a replica's restart; a Redis restart only with persistence (below) |
//	| refresh_state_file (RefreshToken.StateFile) | named in the definition | a restart of this instance: a single instance on store: memory needs it. Written atomically (temporary file, fsync, rename, mode 0600); it holds a live credential, like the token's own file |
//	| the process | always | nothing: it is forgotten when the definition's last source closes |
//
// What Redis needs. Refresh records are read and written on the Redis
// primary itself, never a local fallback, under the family's lock. For a
// restart not to lose them, turn on persistence with every write synced:
// appendonly yes and appendfsync always (a refresh is rare: this costs
// nothing measurable). With everysec, or with replicas and Sentinel (whose
// replication is asynchronous), the last second of writes can be lost; the
// replicas then see an older record than they know and hold back, as below.
// Nor may Redis evict them: a record is read only at a refresh, so an LRU
// or LFU policy under maxmemory picks it first, and an evicted record is
// a flush of its family (below). Use maxmemory-policy noeviction, or a
// Redis of its own for tokenwire.
//
// What happens when something fails. A replica never sends a refresh
// token another replica may already have sent. When it cannot be sure, it
// does not send: it keeps serving the access token it holds, reports an
// error matching oauthclient.ErrRefreshUncertain (in the log with the
// family's hash and why, in the status page's last error, and as outcome
// refresh_uncertain of tokenwire.token.requests), writes back what it
// knows (the newest generation wins) and tries again with backoff. An
// uncertain refresh costs a delay; a reused one would cost the family.
//
//	| failure | what happens |
//	| Redis unreachable | access tokens keep being served; no refresh until Redis answers |
//	| Redis so slow that the fleet lock would expire before the refresh request ends | the request is not sent (another replica may take the lock); the intent is written back, under a lock of its own, unless another replica's newer record or intent stands |
//	| the link to Redis cut while a refresh is at the server | the holder keeps the rotated token and writes it back as soon as Redis answers; the others see its intent and wait for it, then go on |
//	| Redis restarted empty (or flushed) after rotations | every replica that knew the family holds back (any of them may know an older token than another used); an operator hands the newest token to the definition (below) |
//	| one instance on the memory store restarted | with refresh_state_file it goes on with the newest token (unless it was killed with a request in flight: next row); without it, it sends the configuration's token again — name a state file |
//	| the link to Redis cut mid-rotation, and the holder restarted before Redis came back | with refresh_state_file the restarted holder knows the intent in the store as its own and the rotation that answered it: it writes it back and goes on |
//	| a refresh request left and its answer was lost (a gateway's 502/504, a reset connection, the deadline) | like a kill -9, below: the server may have taken the token, so the intent stays and nobody sends it again (a request that never left, or an error answer of the server itself, is simply tried again) |
//	| a replica that never knew the family starts after Redis lost its record | it cannot tell a lost family from a new one and sends the configuration's token, which the server may have rotated long ago: this is why Redis must keep the records (persistence, no eviction, above), or the configuration's token must be replaced with the newest one after a loss |
//	| a replica stopped (a deploy) while its refresh request is in flight | Source.Close (and the registry's Close) waits for the answer and records it before it returns: the others go on with the rotation. Exit only after Close has returned |
//	| the holder killed (kill -9) while its request is in flight | nobody can know whether the server took the token: the intent stays (in the store, and in the holder's refresh_state_file), and no replica sends it, nor the holder restarted. If the server did take it, the rotated token died with the holder and only authorising again helps; if not (its logs show no such request), the operator hands the token to the definition |
//
// An operator *hands a token to the definition* by writing it where the
// definition's refresh_token supplier reads (a replica's
// refresh_state_file holds the newest one it knew, as JSON field t): a
// new value starts a new family, which is sent once and then kept as above.
// Or authorise again (examples/authorize).
//
// A family is named by its first token's hash alone: changing the
// definition's scopes, audience or token URL keeps its records and locks
// (the access tokens are still kept apart).
//
// These are proven with real processes on a real Redis
// (oauthclient/refresh_durability_test.go, refresh_answers_test.go): each scenario above asserts
// that the authorization server saw every refresh token exactly once and
// that the family is alive afterwards.
package oauthclient
