// Package rest is the REST protocol of tokenwire: a [Conn] is a named
// outgoing HTTP connection to one backend — base URL, credentials on
// requests, default headers, timeout, TLS, pool, retries — that a service
// calls by path, never touching a credential. Connections are usually
// declared in a configuration file and opened by package rest/backends;
// [NewConn] builds one in code.
//
//	crm, err := rest.NewConn("crm", rest.ConnConfig{BaseURL: "https://crm.example.com/api/v2"}, rest.OAuth(src))
//	c, err := rest.GetJSON[Customer](ctx, crm, rest.Path("customers", id))
//
// Paths cannot be injected. [Path] builds one from segments, escaping
// each, so that a value from outside stays one segment (an id "a?b=c" is
// sent as "a%3Fb=c"), and an empty one (a missing id) fails the call with
// [ErrBadPath] and "segment 2 is empty" before anything is sent. A path
// argument is joined to the base URL safely:
// never above its path (a ".." segment is refused, even percent-encoded,
// with [ErrBadPath]), never with a query or a fragment of its own (a "?"
// or "#" in it is refused with [ErrBadPath]: queries go in [Query]),
// without double slashes. A non-2xx status is an
// *[Error] (connection, method, URL, status, bounded body excerpt
// scrubbed of the connection's secrets and of the credential the request
// carried). An error shows no query value, so that a service can log it:
// its URL reads "customers?email=[redacted]", as in [Conn.Stats], and a
// value the server echoes is blanked from the excerpt ("no customer with
// email [redacted]"). Its sentinels — [ErrNotFound], [ErrGone],
// [ErrPreconditionFailed], [ErrClientError], [ErrServerError],
// [ErrTransport] for no response at all… — are the one taxonomy of HTTP
// outcomes: the errors of a protocol spoken over a connection wrap the
// connection's *Error, so errors.Is works the same for both.
//
// [GetJSON] and [SendJSON] decode a 2xx body of at most 32 MiB into the
// type asked for. A 2xx body they cannot use (not JSON — a 202 answering
// "queued", an HTML page from a proxy —, JSON of another shape, empty,
// truncated, or over 32 MiB) is an *Error matching [ErrBadResponse] with
// the status and the attempts: the backend answered, so the call was
// made, and a POST must not be repeated as if it had not been. Ask for a
// struct{} to send JSON and ignore the reply (SendJSON[struct{}] reads no
// body); read a larger body with [Conn.Send].
//
// Idempotent calls are retried on connection errors, 429 and 503,
// honouring Retry-After, with capped exponential backoff and jitter
// ([RetryPolicy]); a TLS handshake the server refused (a client
// certificate it requires or rejects, an unknown CA) or could not verify
// is not retried, as it would be refused again. Credentials ([Security]: [OAuth], [Basic], [Bearer],
// [APIKeyHeader], [APIKeyQuery]) are attached only to the connection's
// origin; OAuth tokens come from oauthclient: cached, renewed in the
// background, renewed once after a 401. A connection whose security
// definition has a client certificate (mutual TLS, RFC 8705) presents it
// to the backend by default, rotated files included; its own tls.cert_file
// is presented instead only with tls.own_certificate ([TLSConfig]), and a
// token bound to the definition's certificate never goes out over it
// (oauthclient.ErrCertificateMismatch, not retried). [Conn.Do] lets other
// code drive a connection as an HTTP Doer.
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
//
// # Observability
//
// Everything tokenwire does is visible through OpenTelemetry, log/slog and
// in-memory status snapshots, and none of it ever carries a secret, a token,
// a client id or a query value.
//
// Providers. rest.WithMeterProvider, rest.WithTracerProvider and
// rest.WithLogger reach every connection, token source and the store of a
// registry (oauthclient.Options.MeterProvider, TracerProvider and Logger
// for a source built by hand, redis.Options.MeterProvider for a store).
// They default to OpenTelemetry's global providers: a service that installs
// them gets everything with no option; one that does not pays next to
// nothing (see the figures below).
//
// Backend calls (and the calls of any protocol spoken over a rest.Conn)
// follow the stable HTTP client semantic conventions:
//
//	| instrument | kind | unit | attributes |
//	| http.client.request.duration | Histogram | s | http.request.method, server.address, server.port, http.response.status_code, error.type, tokenwire.connection |
//
// and each call is one client span named after its method (GET,
// POST…) with the same attributes plus url.full (every query value
// replaced by [redacted]) and http.request.resend_count. A status of 400
// or more and a call that got no response set error.type (404,
// timeout, connect, tls_certificate, canceled, no_token, _OTHER)
// and an error status, as the conventions ask of client spans. The span and
// the measurement cover the whole call until its response headers, retries
// included: the conventions picture a span per physical request, tokenwire
// records the call its caller made. What happened inside is a list of
// events on that span rather than child spans — tokenwire.retry (the
// attempt that failed, its status or error type, the wait before the next),
// tokenwire.token.resend (a 401 answered with a fresh token, or a DPoP
// nonce), tokenwire.token.wait (the caller waited for a token) — because
// they are rare, and one span per call keeps traces readable and cheap. The
// trace context goes out in the request headers through the global
// propagator, which writes nothing until the service sets one (for W3C
// traceparent: otel.SetTextMapPropagator(propagation.TraceContext{}));
// rest.WithPropagator chooses another per assembly, and
// propagation.NewCompositeTextMapPropagator() sends none to backends that
// must not see the service's trace ids.
//
// A call that its caller cancelled (the service's own client hung up)
// fails with an error matching context.Canceled. It is the caller's
// doing, not the backend's: its span and duration are recorded like those
// of any call that got no response (error.type canceled, an error
// status), but [Conn.Stats] does not count it, and it is logged at debug
// level ("rest: call ended by its caller") where a failed call is a
// warning ("rest: call failed"). A call whose caller's deadline passed
// (context.DeadlineExceeded), like one that outlived the connection's own
// timeout, is the backend not answering in time, and counted as such.
//
// # Performance
//
// Measured side by side with the peers in the same go test -bench run
// (2-core VM, Go 1.26; run them with go test -run='^$' -bench=Get ./rest/):
//
//	| what | tokenwire | peer |
//	| GET through a named REST connection (rest.BenchmarkGet) | 52.8 µs serial, 34.1 µs parallel, 78 allocs | raw client 57.7 / 31.1 µs (68 allocs); raw client with a timeout 57.6 / 33.7 µs (78 allocs) |
//	| GET through a named REST connection with metrics and tracing on (a real SDK) | 67.9 µs serial, 37.1 µs parallel, 102 allocs | the same GET with them off 53.5 / 32.7 µs, 82 allocs |
//
// The token figures (a warm token, renewals, a fleet) are in the README's
// table. A named connection bounds every attempt with a timeout (default
// 30 s) and retries; the per-attempt deadline (a context with a timer, and
// net/http's cancellation bookkeeping) costs a few microseconds per call
// on loopback: a connection reaches 0.93 of the
// throughput of a raw client without any timeout, and 0.96–1.0 of one with a
// timeout.
package rest
