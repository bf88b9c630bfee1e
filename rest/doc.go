// Package rest is the REST protocol of tokenwire: a [Conn] is a named
// outgoing HTTP connection to one backend — base URL, credentials on
// requests, default headers, timeout, TLS, pool, retries — that a service
// calls by path, never touching a credential. Connections are usually
// declared in a configuration file and opened by package rest/backends;
// [NewConn] builds one in code.
//
//	crm, err := rest.NewConn("crm", rest.ConnConfig{BaseURL: "https://crm.example.com/api/v2"}, rest.OAuth(src))
//	c, err := rest.GetJSON[Customer](ctx, crm, "customers/"+url.PathEscape(id))
//
// Paths are joined to the base URL safely: never above its path (".." is
// refused, even percent-encoded, with [ErrBadPath]), without double
// slashes, with query values encoded ([Query]). A non-2xx status is an
// *[Error] (connection, method, redacted URL, status, bounded body excerpt
// scrubbed of the connection's secrets and of the credential the request
// carried). Its sentinels — [ErrNotFound], [ErrGone],
// [ErrPreconditionFailed], [ErrClientError], [ErrServerError],
// [ErrTransport] for no response at all… — are the one taxonomy of HTTP
// outcomes: the errors of a protocol spoken over a connection (package
// fhir) wrap the connection's *Error, so errors.Is works the same for
// both. Idempotent calls are retried on connection errors, 429 and 503,
// honouring Retry-After, with capped exponential backoff and jitter
// ([RetryPolicy]). Credentials ([Security]: [OAuth], [Basic], [Bearer],
// [APIKeyHeader], [APIKeyQuery]) are attached only to the connection's
// origin; OAuth tokens come from oauthclient: cached, renewed in the
// background, renewed once after a 401. [Conn.Do] lets other code drive a
// connection as an HTTP Doer.
//
// Options ([Option]) are functional: [AllowInsecureHTTP] is the one switch
// for tests against plain-http fakes, [WithClock] the one clock,
// [WithReadFile] the one file reader, [WithLogger] the one logger; package
// rest/backends takes the same options for a whole configuration.
//
// Every call is observable without reading code: OpenTelemetry metrics and
// client spans with the HTTP client semantic conventions
// ([WithMeterProvider], [WithTracerProvider], [WithPropagator]; the global
// providers by default), log/slog events through [WithLogger], a snapshot
// of each connection's calls ([Conn.Stats]) and a check of its backend
// ([Conn.Ping]). None of them ever shows a secret or a token.
package rest
