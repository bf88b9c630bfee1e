package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tokenwire/tokenwire/internal/backoff"
	"github.com/tokenwire/tokenwire/internal/callctx"
	"github.com/tokenwire/tokenwire/internal/origin"
	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/internal/settings"
	"github.com/tokenwire/tokenwire/internal/urlpath"
)

// defaultTimeout bounds one attempt of a call (until the response body is
// read) when a connection sets no Timeout.
const defaultTimeout = 30 * time.Second

// ConnConfig is what a connection is, built in code or written in a
// configuration file (package rest/backends reads one).
type ConnConfig struct {
	BaseURL  string            `yaml:"base_url" json:"base_url,omitempty"`
	Security string            `yaml:"security" json:"security,omitempty"` // name of a security definition; empty means none
	Headers  map[string]string `yaml:"headers" json:"headers,omitempty"`   // sent with every request to the base URL's origin unless the call sets them; not secret (they print): put credentials in a security definition (apikey in: header)
	Timeout  time.Duration     `yaml:"timeout" json:"timeout,omitempty"`   // per attempt, body included; default 30s
	TLS      TLSConfig         `yaml:"tls" json:"tls,omitempty"`
	Pool     PoolConfig        `yaml:"pool" json:"pool,omitempty"`
	Retry    RetryPolicy       `yaml:"retry" json:"retry,omitempty"`
	Ping     PingConfig        `yaml:"ping" json:"ping,omitzero"` // what Conn.Ping sends; REST connections only
}

// Conn is a named connection to one REST backend. It is immutable and safe
// for concurrent use. To change a connection, build a new one: a
// [github.com/tokenwire/tokenwire/rest/backends.Registry] does so when a
// reload changes the connection, and hands the new one out by its name.
type Conn struct {
	name    string
	base    *url.URL
	origin  origin.Origin // of base: where default headers go
	headers http.Header   // defaults, only for origin
	client  *http.Client
	idle    interface{ CloseIdleConnections() } // the transport the Conn built, if it did
	timeout time.Duration                       // per attempt, body included
	retry   RetryPolicy
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	log     *slog.Logger
	red     *redactor
	scrub   func(string, ...string) string // red.text when the security holds static secrets
	tel     *connTelemetry
	stats   *connStats
	secName string // the security definition's name, for Stats
	secKind string
	ping    PingConfig // what Ping sends
}

// NewConn builds the connection name from cfg, authenticating with sec
// (nil means [None]); cfg.Security is not consulted. Credentials go only to
// the origin of cfg.BaseURL. The options that matter are [WithTransport],
// [WithClock], [WithSleep], [WithLogger], [WithReadFile],
// [WithMeterProvider], [WithTracerProvider], [WithPropagator] and
// [AllowInsecureHTTP].
func NewConn(name string, cfg ConnConfig, sec Security, opts ...Option) (*Conn, error) {
	set := settings.New(opts)
	base, err := urlpath.ParseBase(cfg.BaseURL, set.Insecure)
	if err != nil {
		return nil, fmt.Errorf("rest: connection %q: base_url: %w", name, err)
	}
	if err := cfg.Ping.check(); err != nil {
		return nil, fmt.Errorf("rest: connection %q: ping.%w", name, err)
	}
	rt, own := set.Transport, (*http.Transport)(nil)
	if rt == nil {
		if own, err = newTransport(cfg.TLS, cfg.Pool, set.Read); err != nil {
			return nil, fmt.Errorf("rest: connection %q: %w", name, err)
		}
		rt = own
	}
	if sec == nil {
		sec = None()
	}
	if cb, ok := sec.(interface{ certBound() bool }); ok && own != nil && cfg.TLS.CertFile != "" && !cfg.TLS.OwnCertificate && cb.certBound() {
		return nil, fmt.Errorf("rest: connection %q: tls.cert_file: its security definition %q authenticates with a client certificate, "+
			"to which its tokens are bound, and the connection presents that one; leave cert_file out, or set tls.own_certificate to present cert_file's", name, securityName(cfg, sec))
	}
	o := origin.New(base)
	if rt, err = sec.RoundTripper(rt, o.String()); err != nil { // credentials only to the origin
		return nil, fmt.Errorf("rest: connection %q: security: %w", name, err)
	}
	c := &Conn{name: name, base: base, origin: o, headers: http.Header{}, retry: cfg.Retry.withDefaults(), red: &redactor{},
		now: set.Now, sleep: set.Sleep, log: set.Logger, tel: newConnTelemetry(name, base, set), stats: &connStats{},
		secName: securityName(cfg, sec), secKind: securityKind(sec), ping: cfg.Ping}
	for k, v := range cfg.Headers {
		c.headers.Set(k, v)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	c.client = &http.Client{Transport: rt, CheckRedirect: c.checkRedirect}
	if own != nil {
		c.idle = own
		if ci, ok := rt.(interface{ CloseIdleConnections() }); ok { // a security that presents a client certificate clones own
			c.idle = ci
		}
	}
	c.timeout = timeout
	if h, ok := sec.(secretHolder); ok {
		c.red.secrets, c.red.headers = h.secrets()
		c.scrub = c.red.text
	}
	c.setDefaults()
	return c, nil
}

func (c *Conn) setDefaults() {
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = backoff.Sleep
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
}

// Name returns the connection's name.
func (c *Conn) Name() string { return c.name }

// BaseURL returns the connection's base URL.
func (c *Conn) BaseURL() string { return c.base.String() }

// String describes the connection without secrets: the base URL shows
// no user info, and no value of a query parameter that carries a
// credential (by its name, or the connection's own key).
func (c Conn) String() string {
	return fmt.Sprintf("rest.Conn(%s %s)", c.name, c.red.text(redact.URL(c.base, redact.ShowValues)))
}

// CloseIdleConnections closes the idle keep-alive connections of the
// transport the connection built for itself (not of one given with
// [WithTransport]).
// Calls in flight are not affected, and later calls dial anew.
func (c *Conn) CloseIdleConnections() {
	if c.idle != nil {
		c.idle.CloseIdleConnections()
	}
}

// Format prints [Conn.String] whatever the verb, so that %#v shows no
// credentials either. String and Format have value receivers: a
// dereferenced Conn prints as safely.
func (c Conn) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// Do sends req through the connection: default headers (to the base URL's
// origin only, like credentials), security, timeout and retries apply, and
// a relative req.URL ("customers/42?x=1") is joined to the base URL like
// the path of [Conn.Get]. Any status is returned as a
// response for the caller to close; only a call that got no response fails,
// with an *[Error]. Do makes a Conn usable wherever a Doer is expected,
// such as under a protocol spoken over the connection.
func (c *Conn) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if c.scrub != nil { // for the protocol above: the connection's secrets, out of what it keeps of a response
		ctx = callctx.WithScrubber(ctx, c.scrub)
	}
	r := req.Clone(ctx)
	if req.URL.Host == "" {
		u, err := urlpath.Join(c.base, req.URL.EscapedPath(), req.URL.RawQuery, nil)
		if err != nil {
			return nil, c.fail(req, err, 0)
		}
		r.URL, r.Host = u, ""
	}
	if c.origin.Match(r.URL) {
		for k, v := range c.headers {
			if _, ok := r.Header[k]; !ok {
				r.Header[k] = v
			}
		}
	}
	resp, _, err := c.send(r, false)
	return resp, err
}

// checkRedirect keeps http.Client's limit of 10 redirects and removes the
// connection's default headers from a redirect to another origin (the
// client copies the first request's headers into each redirect, so they
// come back on a redirect to the origin). A header the caller set to
// another value is the caller's and left alone.
func (c *Conn) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !c.origin.Match(req.URL) {
		for k, v := range c.headers {
			if slices.Equal(req.Header[k], v) {
				delete(req.Header, k)
			}
		}
	}
	return nil
}

// fail wraps a transport failure in an *Error, its text scrubbed of the
// connection's secrets and of the call's query values.
func (c *Conn) fail(req *http.Request, err error, attempts int) error {
	err = transportError(err)
	msg := blankQuery(c.red.text(err.Error()), queryForms(req.URL))
	return &Error{Conn: c.name, Method: req.Method, URL: c.red.url(req.URL), Attempts: attempts,
		Err: &redactedError{msg: msg, err: err}}
}

// statusError consumes and closes resp, returning its *Error. The excerpt
// is scrubbed of the connection's secrets and of the credential the
// request actually carried (a backend that echoes "token Bearer eyJ…
// lacks scope" never puts the token in an error).
func (c *Conn) statusError(resp *http.Response, attempts int) error {
	defer resp.Body.Close()
	e := &Error{Conn: c.name, StatusCode: resp.StatusCode, Attempts: attempts}
	var forms []string
	if req := resp.Request; req != nil { // set by net/http's transports, else by send
		e.Method, e.URL, forms = req.Method, c.red.url(req.URL), queryForms(req.URL)
	}
	e.Excerpt = c.red.excerpt(resp.Body, redact.Sent(resp.Request, c.red.headers...), forms)
	return e
}

// drain reads a little of a discarded body so the connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}
