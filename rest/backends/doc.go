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
//	c, err := rest.GetJSON[Customer](ctx, crm, "customers/"+url.PathEscape(id))
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
// may use ${VAR} (or ${VAR:-default}; $$ is a literal $), resolved from
// the environment at load time. A secret field (client_secret,
// private_key, password, value, token, params, and the store's passwords
// and keys: every field of type oauthclient.Secret) may instead be file:/path, read
// at load time (e.g. a mounted Kubernetes secret; a trailing newline is
// dropped); "file:" counts only when written in the file, never when it
// comes out of a ${VAR}. Every file — secrets, keys, certificates, CAs,
// the configuration itself — must be a regular file of at most
// 1 MiB; certificate, key and CA files are read when
// loading, to check them, and again through the same reader by [Open].
// Secrets never appear in errors, logs or the
// printed, logged or marshalled configuration.
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
//	                                               # client_secret_jwt, private_key_jwt, tls_client_auth, none
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
//	  partner-mtls:                    # tls_client_auth (RFC 8705)
//	    type: oauth2
//	    token_url: https://partner.example.com/token
//	    client_id: partner-client
//	    auth_method: tls_client_auth
//	    cert_file: /run/secrets/client.crt
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
//	      cert_file: /run/secrets/crm-client.crt   # mutual TLS, with key_file
//	      key_file: /run/secrets/crm-client.key
//	      min_version: "1.3"                       # default 1.2
//	    pool: {max_idle_conns_per_host: 32, max_conns_per_host: 64, idle_conn_timeout: 90s}
//	    retry:
//	      max_attempts: 4                          # including the first; 1 disables
//	      min_wait: 200ms                          # backoff starts here...
//	      max_wait: 5s                             # ...and is capped here
//	      max_elapsed: 30s                         # no new attempt after this
//	      retry_non_idempotent: false              # true: retry POST/PATCH too
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
// when the first token is needed. With a token_url, a definition used by a
// smart connection is an ordinary one.
//
// Plain http:// URLs are refused unless rest.AllowInsecureHTTP is given,
// for tests.
//
// Beyond client credentials ([GrantConfig]; the README's "Grants beyond
// client credentials" has the full reference), an oauth2 definition names
// its grant — jwt_bearer (assertion, or assertion_subject signed with
// private_key), token_exchange (subject_token, actor_token and their
// types, requested_token_type), refresh_token (refresh_token,
// refresh_lifetime) — and a credential issued elsewhere is a supplier read
// at each token request: {file: …}, {command: […]}, {value: …}, or for a
// subject or actor token {definition: …}, another definition's token. A
// type: login definition asks a vendor's login endpoint (method, body,
// client_id_field, client_secret_field, fields, headers, token_path,
// expires_in_path, expires_at_path, scheme); a bearer definition with
// token_from or expires_at is an imported token, read again when it is
// due:
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
// # Live reload
//
// [Registry.ReloadFile] (or [Registry.Reload] with a parsed [Config])
// applies a new file while the registry runs: definitions and connections
// are compared with what is running (every field, secrets by value, the
// files they name), an unchanged definition keeps its token source and
// token, an unchanged connection stays the same *rest.Conn and
// *fhir.Conn (its capabilities kept), changed ones are
// rebuilt, removed ones are no longer found. Everything new is built
// before anything is swapped in; a file that does not load or check, or
// changes the store section, is refused with every problem listed and
// the running configuration goes on. [Registry.Watch] reloads on a change
// of the file (fsnotify on its directory: editors' rename-and-replace and
// Kubernetes ConfigMap swaps) or on a signal, and applies a file only once
// it reads the same twice in a row, so that a file caught half-written is
// never applied; a file that would remove every connection is refused
// unless it says so (an empty section written out, such as "rest: {}").
// A connection kept across a reload keeps its settings, but the sources of
// definitions the reload changed or removed are closed: look connections
// up again after a reload (a lookup is one atomic load).
//
// # Operating
//
// Every call and token is observable without reading code: OpenTelemetry
// metrics and client spans with the HTTP client semantic conventions
// (rest.WithMeterProvider, rest.WithTracerProvider, rest.WithPropagator;
// the global providers by default), log/slog events through
// rest.WithLogger, and snapshots: rest.Conn.Stats and [Registry.Status].
// [Registry.Check] fetches every token and pings every backend
// concurrently (a REST connection with its ping setting, a FHIR one with
// GET [base]/metadata); [HealthHandler] answers a readiness probe with it,
// and [StatusHandler] is a page and a JSON view of all of it for operators,
// read-only unless [AllowRenew] turns on a "renew now" action protected
// against cross-site requests. None of them ever shows a secret or a
// token.
//
// # Lifetime
//
// [Registry.Close] releases everything the registry holds at once: token
// sources stop their timers and drop their tokens, idle keep-alive
// connections close, and a store opened from the store section closes.
package backends

import ()
