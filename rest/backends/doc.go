// Package backends is where a service declares its backends once — a CRM
// over REST, an EHR over HL7 FHIR R4 — in one configuration file, and gets
// them back by name: [Load] reads the file (every problem listed, by entry
// and field, with its line), [Open] builds its token store, security
// definitions and connections in one [Registry], and [Registry.REST] and
// [Registry.FHIR] hand out the same *rest.Conn and *fhir.Conn for a name
// every time. It is a subpackage of rest because every backend, REST or
// FHIR, is an HTTP connection with a security definition; it is its own
// package so that rest stays the REST protocol and fhir the FHIR one:
// backends imports both, and neither imports it.
//
//	cfg, err := backends.Load("tokenwire.yaml")
//	reg, err := backends.Open(ctx, cfg)
//	defer reg.Close()
//	crm, err := reg.REST("crm")
//	c, err := rest.GetJSON[Customer](ctx, crm, rest.Path("customers", id))
//	ehr, err := reg.FHIR("ehr") // capabilities read once per connection
//
// The registry also owns what runs beside the connections: live reload of
// the file ([Registry.ReloadFile], [Registry.Watch]), a readiness check
// ([Registry.Check], [HealthHandler]), a snapshot ([Registry.Status]) and
// a status page for operators ([StatusHandler]).
//
// The options of [Load], [Parse] and [Open] are rest.Option values, the
// same as for one connection: rest.AllowInsecureHTTP is the one switch for
// tests against plain-http fakes, rest.WithClock the one clock,
// rest.WithReadFile the one file reader (every file the configuration
// names goes through it), rest.WithLogger the one logger; [WithLookupEnv],
// [WithStore], [WithStoreSection] and [WithTokenOptions] add what only a
// configuration has. Options given to the loader are remembered for
// [Open]. A store kept in another package is named by the file only when
// the program passes its section ([WithStoreSection]), so a service on the
// memory store links no Redis code.
//
// # Configuration file
//
// YAML or JSON, read with go.yaml.in/yaml/v3 (the maintained continuation
// of gopkg.in/yaml.v3). Four sections, each at most once: security
// definitions, REST connections, FHIR connections and the token store.
// Unknown keys are errors, also inside a YAML merge (<<), and so is a key
// written twice in an entry; loading reports every problem, each naming
// the definition or connection and the field, with its line. Any string
// may use ${VAR} (or ${VAR:-default}, the default when VAR is unset or
// empty, as in a shell; $$ is a literal $), resolved from the
// environment at load time; a field whose value is then wrong (a
// secret missing, a URL cut short, a file: with no path) names the
// variables it used that are set but empty. Inside { } or [ ] a
// reference must be quoted ({base_url: "${CRM}"}): unquoted, the file is
// not YAML, and the problem says so. A secret field (client_secret,
// private_key, password, value, token, params, and the store's passwords
// and keys: every field of type oauthclient.Secret) may instead be file:/path, read
// at load time (e.g. a mounted Kubernetes secret; a trailing newline is
// dropped). "file:" counts only when written in the file: private_key:
// file:${EHR_KEY_FILE} reads the file the variable names, while a
// variable whose value starts with "file:" is taken as the secret itself,
// never as a path. Every file — secrets, keys, certificates, CAs, the
// configuration itself — must be a regular file of at most 1 MiB. CA
// files are read when loading, to check them, and again through the same
// reader by [Open]; a definition's cert_file and key_file are read by its
// token source (when loading, to check them, and again when they change
// on disk: see "Mutual TLS" below).
// Secrets never appear in errors, logs or the
// printed, logged or marshalled configuration. A [Config] marshalled to
// YAML or JSON is written as the file writes it (empty keys left out,
// durations as 5s) and loads again to the same configuration once its
// secrets, each shown as [redacted], are written back; a secret left as
// [redacted] is refused, never taken for the secret.
//
//	security:
//	  crm-oauth:                       # OAuth 2.0 client credentials
//	    type: oauth2
//	    token_url: https://login.example.com/oauth2/token  # or issuer: https://login.example.com
//	                                               # (token endpoint from RFC 8414 or OpenID discovery)
//	    client_id: integration-service
//	    client_secret: ${CRM_CLIENT_SECRET}
//	    scopes: [crm.read, crm.write]
//	    audience: https://crm.example.com          # optional
//	    resources: [https://crm.example.com/api]   # optional, RFC 8707
//	    params: {tenant: acme}                     # optional extra form fields
//	    auth_method: client_secret_basic           # or client_secret_post,
//	                                               # client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none
//	    timeout: 10s                               # token call
//	    dpop: true                                 # DPoP-bound tokens (RFC 9449); dpop_key, dpop_alg
//	  ehr-jwt:                         # private_key_jwt (RFC 7523)
//	    type: oauth2
//	    token_url: https://ehr.example.org/token
//	    client_id: ehr-client
//	    auth_method: private_key_jwt
//	    private_key: file:/run/secrets/ehr-key.pem
//	    key_id: key-2026
//	    signing_alg: ES256                         # RS256, RS384, PS256, ES256, ES384
//	  partner-mtls:                    # tls_client_auth (RFC 8705), see "Mutual TLS" below
//	    type: oauth2
//	    token_url: https://partner.example.com/token
//	    client_id: partner-client
//	    auth_method: tls_client_auth
//	    cert_file: /run/secrets/client.crt         # watched: a rotated pair is used without a reload
//	    key_file: /run/secrets/client.key
//	    ca_file: /etc/ssl/partner-ca.pem           # optional roots for the token endpoint
//	  billing-key:                     # API key in a header (in: header) or query (in: query)
//	    type: apikey
//	    in: query
//	    name: api_key
//	    value: file:/run/secrets/billing-key
//	  legacy-basic:                    # HTTP Basic
//	    type: basic
//	    username: svc-integration
//	    password: ${LEGACY_PASSWORD}
//	  partner-token:                   # fixed bearer token
//	    type: bearer
//	    token: ${PARTNER_TOKEN}
//	  public:
//	    type: none
//	  ehr-smart:                       # SMART Backend Services: no token_url, see below
//	    type: oauth2
//	    client_id: ehr-client
//	    private_key: file:/run/secrets/ehr-key.pem # RSA, or EC P-384
//	    key_id: key-2026                           # required: the kid of the JWKS entry
//	    signing_alg: ES384                         # RS384 or ES384; default from the key
//	    scopes: [system/Patient.rs, system/Observation.rs]
//
//	rest:
//	  crm:
//	    base_url: https://crm.example.com/api/v2   # https only
//	    security: crm-oauth                        # omit for none
//	    headers: {Accept: application/json}        # defaults for calls to this origin
//	    timeout: 10s                               # per attempt, body included (default 30s)
//	    tls:
//	      ca_file: /etc/ssl/crm-ca.pem             # instead of the system roots
//	      cert_file: /run/secrets/crm-client.crt   # mutual TLS, with key_file; not needed for the
//	      key_file: /run/secrets/crm-client.key    # certificate of the security definition (see below)
//	      min_version: "1.3"                       # default 1.2
//	    pool: {max_idle_conns_per_host: 32, max_conns_per_host: 64, idle_conn_timeout: 90s}
//	    retry:
//	      max_attempts: 4                          # including the first; 1 disables
//	      min_wait: 200ms                          # backoff starts here...
//	      max_wait: 5s                             # ...and is capped here
//	      max_elapsed: 30s                         # no new attempt after this
//	      retry_non_idempotent: false              # true: retry POST/PATCH too
//	    ping: {method: GET, path: health}          # what Conn.Ping and readiness send (default: HEAD of base_url; fhir: GET metadata);
//	                                               # path: /health is at the origin's root, health under base_url
//	    readiness: required                        # required (default), optional or token_only: see "Readiness" below
//	  billing:
//	    base_url: https://billing.example.com/v1
//	    security: billing-key
//
//	fhir:
//	  ehr:
//	    base_url: https://ehr.example.org/fhir/r4
//	    security: ehr-smart
//	    smart: true                                # token endpoint from .well-known/smart-configuration
//	    timeout: 15s                               # and tls, pool, retry, headers as above
//
//	store:                             # where OAuth tokens are cached: one of
//	  memory: {size: 1024}             # this process only
//	  # redis:                         # or shared by all replicas: needs
//	  #   addrs: ["redis-1:6379"]      # backends.WithStoreSection[redis.Config]("redis")
//	  #   password: ${REDIS_PASSWORD}
//	  #   encryption_keys: [file:/run/secrets/token-key]
//
// An oauth2 definition may leave token_url out only when the connections
// using it are all FHIR connections with smart: true to one base URL: it
// is then SMART Backend Services (private_key_jwt signed RS384 or ES384,
// key_id required), its token endpoint read from the server's
// .well-known/smart-configuration through that connection's TLS settings
// when the first token is needed (oauthclient.Config.DiscoveryURL, derived
// from base_url: a problem with it is reported on base_url). With a
// token_url, a definition used by a smart connection is an ordinary one.
//
// Plain http:// URLs are refused unless rest.AllowInsecureHTTP is given,
// for tests.
//
// Beyond client credentials (the oauthclient package doc's "Grants beyond
// client credentials" has the full reference), an oauth2 definition names
// its grant — jwt_bearer (assertion, or assertion_subject signed with
// private_key), token_exchange (subject_token, actor_token and their
// types, requested_token_type), refresh_token (refresh_token,
// refresh_lifetime, refresh_state_file) — and a credential issued
// elsewhere is a supplier read at each token request: {file: …},
// {command: […]}, {value: …}, or for a subject or actor token
// {definition: …}, another definition's token. A type: login definition
// asks a vendor's login endpoint (method, body, client_id_field,
// client_secret_field, fields, headers, token_path, expires_in_path,
// expires_at_path, scheme); a bearer definition with token_from or
// expires_at is an imported token, read again when it is due:
//
//	security:
//	  workload: {type: oauth2, grant: jwt_bearer, token_url: https://idp.example.com/token,
//	             assertion: {file: /var/run/secrets/tokens/crm}}
//	  drive:    {type: oauth2, grant: refresh_token, token_url: https://idp.example.com/token, client_id: integration,
//	             refresh_token: {file: /var/lib/integration/drive-refresh-token}}   # see examples/authorize
//	  orders:   {type: oauth2, grant: token_exchange, token_url: https://sts.example.com/token, client_id: gw,
//	             client_secret: "${GW_SECRET}", audience: https://orders.example.com, subject_token: {definition: workload}}
//	  vendor:   {type: login, token_url: https://vendor.example.com/login, client_id: svc, client_secret: "${PW}",
//	             client_id_field: username, client_secret_field: password, token_path: data.jwt}
//	  partner:  {type: bearer, token_from: {file: /run/secrets/partner}, expires_at: "2026-12-31T00:00:00Z"}
//
// # Where each key is documented
//
// Every key is declared once, by the Go field it fills, whose doc comment
// is its reference (go doc shows it):
//
//   - security, OAuth (type oauth2, and what login and imported tokens
//     share with it): token_url, issuer, client_id, client_secret, scopes,
//     audience, resources, params, auth_method, private_key, key_id,
//     signing_alg, assertion_audience, assertion_lifetime, dpop, dpop_key,
//     dpop_alg, cert_file, key_file, timeout, default_lifetime are the
//     fields of
//     oauthclient.Config of those names (its json and yaml tags); grant
//     names its Grant.
//   - grant: jwt_bearer: assertion, assertion_issuer, assertion_subject,
//     assertion_claims — oauthclient.JWTBearer; grant: token_exchange:
//     subject_token, subject_token_type, actor_token, actor_token_type,
//     requested_token_type — oauthclient.TokenExchange (token types by URN
//     or short name: access_token, jwt…); grant: refresh_token:
//     refresh_token, refresh_lifetime, refresh_state_file —
//     oauthclient.RefreshToken.
//   - type: login: method, body, client_id_field, client_secret_field,
//     fields, headers, token_path, expires_in_path, expires_at_path,
//     scheme — oauthclient.Login (token_url, client_id, client_secret,
//     auth_method, timeout, default_lifetime, cert_file, key_file and
//     ca_file apply too).
//   - type: bearer with token_from or expires_at: oauthclient.Imported
//     (token_from is its Token, expires_at its Expiry, an RFC 3339 date that
//     may come from ${VAR}; scheme; default_lifetime applies); token is
//     its first value when token_from is not given.
//   - a supplier ({file}, {command}, {value}, {definition}): see
//     oauthclient.Supplier and its FileSupplier, CommandSupplier,
//     ValueSupplier and Registry.Supplier, which the sections become.
//   - type, ca_file (read into oauthclient.Config.RootCAs), and the
//     basic, apikey and bearer keys: [SecurityConfig].
//   - rest: rest.ConnConfig (tls: rest.TLSConfig, pool, retry:
//     rest.RetryPolicy, ping); fhir: [FHIRConfig] (the same, and smart);
//     store: [StoreConfig] (memory, or the section given with
//     [WithStoreSection], such as cache/redis's Config).
//
// A key set for a type or a grant it does not belong to is an error that
// says so. A store section such as redis: needs
// backends.WithStoreSection[redis.Config]("redis") (package cache/redis)
// when loading; a program that does not pass it links no Redis code, and a
// file naming Redis then fails to load with an error saying what to import
// and pass.
//
// Problems name the entry and the key as the file writes them, with the
// line of that key (of the entry, for a key that is missing), and one
// cause gives one problem: a definition that is itself wrong is not named
// again by the connections and definitions that use it, and a misspelt key
// ("did you mean") or a key of the other section (smart: under rest) is
// the one problem about it: the key meant is not also reported missing,
// nor what needs it (a token_url that smart: true would have discovered,
// the keys of a misspelt grant).
//
// # Mutual TLS (RFC 8705)
//
// A security definition that authenticates with a client certificate
// (auth_method tls_client_auth, a certificate its CA issued, or
// self_signed_tls_client_auth, one registered with the client) presents
// it to the token endpoint — found through an mTLS endpoint alias of the
// discovery document when there is one — and gets tokens bound to it
// (cnf.x5t#S256). A connection using the definition presents the same
// certificate to its backend by default: its tls section needs no
// cert_file, and keeps ca_file for the backend's roots. The definition's
// cert_file and key_file are looked at (two stats) at most once a second,
// at a new TLS connection or before a token fetch: when cert-manager, a
// SPIFFE helper or a Kubernetes secret update replaces them (an atomic
// rename, a ..data symlink swap), the next connection presents the new
// pair and the tokens bound to the old one are dropped and fetched anew,
// without a reload and without a failed call (calls in flight finish over
// connections presenting the certificate their token is bound to). A pair
// caught half written, or a key of another certificate, leaves the one in
// use as it is; the log says why (a warning naming the definition and the
// file, never their contents).
//
//	security:
//	  partner-mtls:
//	    type: oauth2
//	    issuer: https://login.partner.example.com  # discovery: mtls_endpoint_aliases.token_endpoint
//	    client_id: partner-client
//	    auth_method: self_signed_tls_client_auth   # or tls_client_auth
//	    cert_file: /var/run/secrets/partner/tls.crt
//	    key_file: /var/run/secrets/partner/tls.key
//	    ca_file: /etc/ssl/partner-ca.pem           # roots of the token endpoint
//	rest:
//	  partner:
//	    base_url: https://api.partner.example.com/v1
//	    security: partner-mtls                     # presents partner-mtls's certificate
//	    tls:
//	      ca_file: /etc/ssl/partner-ca.pem         # roots of the backend
//	  partner-legacy:
//	    base_url: https://legacy.partner.example.com
//	    security: partner-mtls
//	    tls:                                       # another certificate, said so explicitly:
//	      cert_file: /run/secrets/legacy.crt
//	      key_file: /run/secrets/legacy.key
//	      own_certificate: true
//
// A connection may present another certificate only by saying so with
// tls.own_certificate: true; a tls.cert_file without it, beside a
// definition that authenticates with its certificate, fails to open,
// naming the connection and the field. Even then a token bound to the
// definition's certificate never goes out over a connection presenting
// another: such a call fails before it leaves, and is not retried, with
// an error matching oauthclient.ErrCertificateMismatch (errors.Is) that
// names the definition, inside the *rest.Error of the connection. own_certificate is for definitions whose tokens are
// not bound to the certificate (a client secret beside a certificate
// for the token endpoint's TLS), and for backends that do not check the
// binding with the very same certificate files. oauthclient.Transport is
// the one place that decides which certificate a connection presents.
//
// # Live reload
//
// A service changes its backends without a restart. reg.ReloadFile(ctx,
// path) (or reg.Reload(ctx, cfg) with a *backends.Config) compares the new
// file with what is running — every field, secrets by value (never
// printed), and the contents of the certificate, key and CA files an entry
// names — and applies the difference: an unchanged security definition keeps
// its token source and its token (nothing is fetched again), an unchanged
// connection stays the same *rest.Conn; a changed definition gets a new
// source and the connections using it are rebuilt; added entries are built,
// removed connections are no longer found (backends.ErrUnknownConnection).
// Everything new is built before anything is swapped in, and calls in
// flight finish on the connection they started with. A *rest.Conn (or
// fhir.Conn) kept from before the reload keeps its old settings: the
// token source of a definition the reload changed is released at once and
// closed after two minutes, so that retries and 401
// resends of calls in flight still get a token; one the file no longer has
// is closed at once. After that, a call through the old connection fails
// with backends.ErrClosed: look connections up again after a reload, or per
// call. A file that does not
// load or does not check is refused with every problem listed (a
// *backends.ConfigError, by entry, field and line) and the running
// configuration goes on untouched; so is a change of the store section,
// which is opened once and takes a restart. Reloads are serialised, never
// block lookups or calls, and are logged as config reload events through
// rest.WithLogger (what was added, changed and removed, by name).
//
//	w, err := reg.Watch(ctx, "/etc/integration/tokenwire.yaml",
//		backends.ReloadOnSignal(syscall.SIGHUP), // also on kill -HUP
//		backends.OnReload(func(r backends.ReloadReport, err error) {
//			// r says what changed; err lists every problem of a refused file
//		}))
//	defer w.Close() // or cancel ctx, or close reg
//
// Watch watches the file's directory with fsnotify, so it follows an
// editor's write-and-rename and a Kubernetes ConfigMap update (a swap of the
// ..data symlink), and reloads 250 ms (backends.Debounce) after the last
// event, once the file reads the same twice a debounce apart: a file caught
// half-written is never applied, and one that declares nothing at all is
// refused unless it writes its sections out empty (rest: {}). Files the configuration names (file: secrets, certificates) are
// read again at each reload but not watched: after rotating one alone, send
// the signal or call ReloadFile.
//
// # Observability
//
// Logs go to the one rest.WithLogger, each with the definition or
// connection name, and URLs without query values: "oauthclient: token
// obtained" (Info, with the trigger and expiry); "oauthclient: renewing
// the token in the background" and "oauthclient: token taken from the
// shared store" (Debug); "oauthclient: token fetch failed; backing off"
// (Warn, with the failures, the wait and the error); "oauthclient: the
// backend rejected the token (401); resending once with a fresh one"
// (Info); the store's read, write and lock failures (Warn) and a Redis
// outage and its end (Warn, Info); "rest: retrying" (Debug); "rest: call
// failed" for a call that got no response (Warn); "config reload" (Info)
// and "config reload refused" (Error).
//
// Status snapshots for a status page or a health check, cheap (atomic
// loads, no I/O) and safe at any time:
//
//	st := reg.Status() // backends.Status: every definition, connection and the store, by name
//	for _, s := range st.Security {
//		if s.Token != nil { // OAuth definitions: oauthclient.SourceStatus
//			fmt.Println(s.Name, s.Token.State, s.Token.ExpiresAt.Sub(s.Token.At), s.Token.LastError)
//		}
//	}
//	for _, c := range st.Connections { // rest.ConnStats, also crm.Stats()
//		fmt.Println(c.Name, c.BaseURL, c.Calls, c.Errors, c.LastStatus, c.Latency.P95)
//	}
//	if st.Store != nil { // cache.Status
//		fmt.Println(st.Store.Kind, st.Store.Healthy, st.Store.Breaker)
//	}
//	_ = json.NewEncoder(w).Encode(st) // snake_case JSON, no secret, no token
//
// A token's state is fresh, stale (in its renewal window), expired,
// backing_off (no request before BackoffUntil; a still-valid token keeps
// being served) or none; a source also reports its last fetch, its last
// error (kept after a recovery, with its time), its request, failure and
// resend counts and its lookups. A connection reports its base URL
// (redacted), security definition and kind, calls, errors by class
// (4xx, 5xx, no response), retries, the last status, the last error and a
// latency summary (last, mean, max and bucket estimates of p50, p95 and
// p99). The store reports its kind, whether it is shared and reachable,
// its circuit breaker's state and when it is tried again, the operations
// its local fallback served and those that failed, its last error (with
// its time) and, in memory, its entries (cache.Status).
//
// # Status page and health
//
// A service mounts two handlers where its operators and its orchestrator
// reach them (and the public does not):
//
//	mux.Handle("GET /readyz", backends.HealthHandler(reg, backends.CheckTimeout(5*time.Second)))
//	mux.Handle("/debug/tokenwire/", http.StripPrefix("/debug/tokenwire",
//		backends.StatusHandler(reg, backends.AllowRenew()))) // read-only without AllowRenew
//
// go run ./examples/integration -serve :8080 serves both;
// examples/integration/status-page.png in the repository is a picture of
// its page (checks, security definitions, connections, token store), taken
// by the browser test.
//
// Ping. conn.Ping(ctx) checks one backend through its connection:
// with its token (fetched if none is held, renewed once on a 401), its TLS
// settings, default headers, timeout and retry policy, and it counts in the
// connection's statistics like any call. A REST connection sends its ping
// setting — ping: {method: GET, path: health}; HEAD of the base URL by
// default; only HEAD, GET or OPTIONS — and succeeds on any status below 400.
// A path with a leading slash (path: /health) starts at the origin's root,
// where many APIs keep their health check, whatever base_url's path; one
// without (path: health) stays under base_url's path, like a call's. A
// ".." or a fragment is refused when the file loads.
// A HEAD answered with 405 or 501 succeeds too: the server was reached,
// through TLS and authentication, and only refuses the method (configure a
// GET and a path to check more; the statistics still count that 405 as a
// client error). A FHIR connection sends GET [base]/metadata and succeeds
// when the answer is a CapabilityStatement (rest reads resourceType with a
// small streaming probe; package fhir's Conn.Ping is the same check). A
// failure is the usual redacted *rest.Error, matching (errors.Is)
// rest.ErrUnauthorized, rest.ErrTransport and the other sentinels of rest.
//
// Check and readiness. reg.Check(ctx) gets every OAuth definition's
// token (TokenContext: a valid token held counts without a token request,
// so a probe every few seconds costs the authorization server nothing) and
// pings every connection, all concurrently (8 at
// once) and each within backends.CheckTimeout (10 s by default) and ctx.
// The backends.CheckReport has a result per token and per connection — name,
// kind (oauth2, rest, fhir), security definition, ok, latency, the
// error text — and the store's status. The store does not count: when a
// shared Redis store is down, connections keep working on their local
// fallback (see package cache/redis), so readiness reports it and stays green.
// backends.HealthHandler answers GET and HEAD with 200 when every result
// that counts is ok and 503 otherwise, the report as JSON, Cache-Control:
// no-store; probes that arrive during a check share it, so a burst of them
// pings each backend once.
//
// Readiness. Each connection says how it counts with its readiness key,
// and each result of the report carries it:
//
//   - required (the default): its definition's token and its ping must
//     succeed, or the service is not ready;
//   - optional: checked and reported (the status page and the JSON show
//     the failure), never makes the service unready — a backend the
//     service can do without, such as an audit sink or a reporting API;
//   - token_only: its definition's token must be obtainable, and the
//     backend is not pinged — for a backend that has no cheap safe call,
//     or whose outage the service handles per call.
//
// A definition's token counts unless every connection that uses it is
// optional (one that no connection uses, kept for calls in code, counts).
// token_only needs a definition that gets tokens (oauth2, login or an
// imported bearer token); anything else is refused when the file loads.
//
// A Kubernetes Deployment uses the handler as its readiness probe only:
// one CRM outage then takes no pod out of its Service when the CRM is
// optional, and a failing backend never restarts a pod, which a liveness
// probe on it would do (serve liveness from a handler of its own that
// checks the process alone):
//
//	rest:
//	  crm:   {base_url: "https://crm.example.com/api", security: crm-oauth}  # required
//	  audit: {base_url: "https://audit.example.com", security: audit-key, readiness: optional}
//	fhir:
//	  ehr:   {base_url: "https://ehr.example.org/fhir/r4", security: ehr-smart, smart: true, readiness: token_only}
//
//	# in the Deployment's container:
//	readinessProbe:
//	  httpGet: {path: /readyz, port: 8080}
//	  periodSeconds: 10
//	  timeoutSeconds: 6        # above backends.CheckTimeout(5*time.Second)
//	  failureThreshold: 3
//	livenessProbe:
//	  httpGet: {path: /livez, port: 8080}   # the process only, never the backends
//
// The status page. backends.StatusHandler is an HTML page (one embedded
// template and a small stylesheet; no script, no external asset) and
// ?format=json the same for programs: every security definition (kind,
// grant, token state fresh / stale / expired / backing off, expires in, last
// fetch, token requests, last error), every connection (kind, base URL
// redacted, security, calls, errors, last status, latency), and the store
// (memory or Redis, reachable, breaker, fallbacks). A "Run checks" button
// (?check=1) adds a Check to the page; requests that arrive while one
// runs share it. It answers only to a Host that is a loopback name, its
// listening address or one given with backends.AllowHosts (a page of
// another site that rebinds its DNS name gets 403). It works under any path
// (its links are relative), and every response carries
// Content-Security-Policy: default-src 'none' (with the inline style's
// hash, form-action 'self', frame-ancestors 'none'), X-Frame-Options:
// DENY, X-Content-Type-Options: nosniff, Cache-Control: no-store and
// Referrer-Policy: no-referrer.
//
// No secret, no token, ever. The page and the JSON show names, states,
// counts and this library's error texts, which are redacted where they are
// made; the page scrubs them once more of every connection's secrets. The
// tests render every view of an assembly with OAuth, API-key, Basic and
// bearer definitions, while its authorization server and backends fail
// echoing what they were sent, and check that no secret and no issued token
// appears; the browser test checks the page source of the example the same
// way.
//
// Renew now (backends.AllowRenew(); off by default) adds a button per
// OAuth definition that drops its current token and fetches a new one
// (Source.Invalidate, then TokenContext: one token request). It takes a
// POST from the page itself only: the browser must say the request is
// same-origin (Sec-Fetch-Site: same-origin, or else an Origin naming
// the page's own host; a request with neither is refused), and the form
// must carry the page's anti-forgery token (128 random bits per handler).
// Anything else is a 403, and renews nothing. A definition backing off
// keeps the token it still has (dropping a working token while the
// authorization server fails would stop its connections), and a second
// renewal within the source's MinBackoff keeps the new one. The browser
// test clicks the button in headless Chromium (one more token request at
// the fake authorization server) and has a page on another loopback port
// auto-submit the same form, with the real anti-forgery token: refused.
// Each renewal is logged (Info, definition name only).
//
// # Lifetime
//
// [Registry.Close] releases everything the registry holds at once: token
// sources stop their timers and drop their tokens, idle keep-alive
// connections close, and a store opened from the store section closes.
package backends

import ()
