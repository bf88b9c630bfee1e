// Package rest provides named outgoing REST connections: a service names
// its backends once (base URL, security, headers, timeout, TLS, pool,
// retries) and then calls them by name, never touching a credential.
//
//	cfg, err := rest.LoadConfig("tokenwire.yaml")
//	reg, err := rest.NewRegistry(ctx, cfg, rest.RegistryOptions{})
//	crm, err := reg.Conn("crm")
//	c, err := rest.GetJSON[Customer](ctx, crm, "customers/"+id)
//
// Paths are joined to the base URL safely: never above its path (".." is
// refused, even percent-encoded), without double slashes, with query
// values encoded. A non-2xx status is an *[Error] (connection, method,
// redacted URL, status, bounded body excerpt; errors.Is matches
// [ErrNotFound], [ErrClientError]...). Idempotent calls are retried on
// connection errors, 429 and 503, honouring Retry-After, with capped
// exponential backoff and jitter ([RetryPolicy]). OAuth tokens come from
// oauthclient: cached, renewed in the background, attached only to the
// connection's origin, renewed once after a 401. [Conn.Do] lets other
// packages drive a connection as an HTTP Doer.
//
// # Configuration file
//
// YAML or JSON. Four sections: security definitions, REST connections,
// FHIR connections (parsed and validated here, built by package fhir) and
// the token store. Unknown keys are errors; loading reports every problem,
// each naming the definition or connection and the field. Any string may
// use ${VAR} (or ${VAR:-default}; $$ is a literal $), resolved from the
// environment at load time; secret fields (client_secret, private_key,
// password, value, token) may instead be file:/path, read at load time
// (e.g. a mounted Kubernetes secret; a trailing newline is dropped).
// Secrets never appear in errors or in the printed configuration.
//
//	security:
//	  crm-oauth:                       # OAuth 2.0 client credentials
//	    type: oauth2
//	    token_url: https://login.example.com/oauth2/token
//	    client_id: integration-service
//	    client_secret: ${CRM_CLIENT_SECRET}
//	    scopes: [crm.read, crm.write]
//	    audience: https://crm.example.com          # optional
//	    resources: [https://crm.example.com/api]   # optional, RFC 8707
//	    params: {tenant: acme}                     # optional extra form fields
//	    auth_method: client_secret_basic           # or client_secret_post,
//	                                               # private_key_jwt, tls_client_auth, none
//	    timeout: 10s                               # token call
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
//	  ehr-smart:                       # SMART Backend Services: no token_url, see below
//	    type: oauth2
//	    client_id: ehr-client
//	    private_key: file:/run/secrets/ehr-key.pem # RSA, or EC P-384
//	    key_id: key-2026                           # required: the kid of the JWKS entry
//	    signing_alg: ES384                         # RS384 or ES384; default from the key
//	    scopes: [system/Patient.rs, system/Observation.rs]
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
//	  # redis:                         # or shared by all replicas (see cache/redis.Config)
//	  #   addrs: ["redis-1:6379"]
//	  #   password: ${REDIS_PASSWORD}
//	  #   encryption_keys: [file:/run/secrets/token-key]
//
// An oauth2 definition may leave token_url out only when the connections
// using it are all FHIR connections with smart: true: it is then SMART
// Backend Services (private_key_jwt signed RS384 or ES384, key_id
// required), which package fhir completes by discovering the token
// endpoint; [NewRegistry] skips it and [Registry.SecurityFor] refuses it.
// With a token_url, a definition used by a smart connection is an ordinary
// one.
//
// Plain http:// URLs are refused unless [AllowInsecureHTTP] (loading) and
// Options.AllowInsecureHTTP (building) are both given, for tests.
package rest
