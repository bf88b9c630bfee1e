package rest

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/tokenwire/tokenwire/internal/backoff"
	"github.com/tokenwire/tokenwire/internal/urlpath"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// CheckRetry decides whether a finished attempt should be retried. resp is
// nil when err is not. Returning a non-nil error stops the retries and makes
// the call fail with that error.
type CheckRetry func(ctx context.Context, resp *http.Response, err error) (bool, error)

// Backoff returns the wait before retry number attempt (1 for the first
// retry). resp is the response that is being retried, or nil.
type Backoff func(min, max time.Duration, attempt int, resp *http.Response) time.Duration

// RetryPolicy bounds the retries of a connection. The zero value retries
// with the defaults below; MaxAttempts 1 disables retries.
//
// Only idempotent requests (GET, HEAD, OPTIONS, TRACE, PUT, DELETE, or any
// request with an Idempotency-Key header) are retried, unless
// RetryNonIdempotent is set or the call opts in with [Retryable]; a request
// that never reached the server (connection refused) is always safe to
// retry. A conditional write (a method other than GET, HEAD, OPTIONS or
// TRACE with If-Match, If-None-Match, If-None-Exist or If-Unmodified-Since)
// is not retried after a transport error that may have happened once the
// request was sent (a timeout, a reset connection): had the first attempt
// succeeded, the retry's precondition would fail and report an error for a
// write that was made. It is still retried on 429 and 503 responses and
// when the connection could not be made. Errors from the security layer
// (an oauthclient error that is not temporary, a source backing off after
// failures, a configuration error) are never retried: the token source has
// its own backoff. The transport's one retry after a 401 with a fresh
// token is not counted here.
type RetryPolicy struct {
	MaxAttempts        int           `yaml:"max_attempts" json:"max_attempts,omitempty"`                 // attempts including the first; default 3
	MaxElapsed         time.Duration `yaml:"max_elapsed" json:"max_elapsed,omitempty"`                   // no new attempt after this long; default 30s
	MinWait            time.Duration `yaml:"min_wait" json:"min_wait,omitempty"`                         // first backoff; default 100ms
	MaxWait            time.Duration `yaml:"max_wait" json:"max_wait,omitempty"`                         // backoff cap; default 5s (Retry-After may ask for more, within MaxElapsed)
	RetryNonIdempotent bool          `yaml:"retry_non_idempotent" json:"retry_non_idempotent,omitempty"` // retry POST and PATCH too
	CheckRetry         CheckRetry    `yaml:"-" json:"-"`                                                 // default DefaultCheckRetry
	Backoff            Backoff       `yaml:"-" json:"-"`                                                 // default: exponential with jitter
}

// The policy's defaults.
const (
	defaultMaxAttempts = 3
	defaultMaxElapsed  = 30 * time.Second
	defaultMinWait     = 100 * time.Millisecond
	defaultMaxWait     = 5 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = defaultMaxElapsed
	}
	if p.MinWait <= 0 {
		p.MinWait = defaultMinWait
	}
	if p.MaxWait <= 0 {
		p.MaxWait = defaultMaxWait
	}
	if p.MaxWait < p.MinWait {
		p.MaxWait = p.MinWait
	}
	if p.CheckRetry == nil {
		p.CheckRetry = DefaultCheckRetry
	}
	if p.Backoff == nil {
		p.Backoff = defaultBackoff
	}
	return p
}

// DefaultCheckRetry retries connection errors and timeouts, 429 Too Many
// Requests and 503 Service Unavailable. It does not retry a cancelled
// context, a TLS certificate error, an unusable URL or a security error
// (see [RetryPolicy]).
func DefaultCheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryableError(err), nil
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true, nil
	}
	return false, nil
}

func retryableError(err error) bool {
	if securityError(err) {
		return false
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		tlsRecord        interface{ RecordHeaderError() }
	)
	switch {
	case errors.Is(err, context.Canceled),
		errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &tlsRecord), errors.Is(err, urlpath.ErrBadPath), tlsRefused(err):
		return false
	}
	return true
}

// tlsRefused reports whether the server refused the TLS handshake with an
// alert ("remote error: tls: certificate required", "bad certificate",
// "unknown certificate authority"…): the same handshake would be refused
// again, so it is not retried.
func tlsRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// securityError reports whether err comes from the token source (no token
// could be had, a backoff, a definition error, a bound token kept from a
// connection presenting another certificate): the source has its own
// backoff and waits for its next attempt itself, so a retry here would only
// add an attempt.
func securityError(err error) bool {
	var (
		oe *oauthclient.Error
		be *oauthclient.BackoffError
		ce *oauthclient.ConfigError
	)
	return errors.Is(err, oauthclient.ErrNoToken) || errors.Is(err, oauthclient.ErrCertificateMismatch) || errors.As(err, &be) || errors.As(err, &ce) ||
		(errors.As(err, &oe) && !oe.Temporary())
}

// defaultBackoff is a capped exponential delay with jitter: between half
// and all of min·2^(attempt-1), at most max. (A connection honours a 429 or
// 503 response's Retry-After before asking Backoff.)
func defaultBackoff(min, max time.Duration, attempt int, _ *http.Response) time.Duration {
	return backoff.Policy{Min: min, Max: max}.Delay(attempt - 1)
}

func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0
	}
	return backoff.RetryAfter(resp.Header.Get("Retry-After"), now)
}

// idempotent reports whether req may be sent twice without harm.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}

// conditionalWrite reports whether req is an unsafe method carrying a
// precondition, which a replay after an unseen success would fail.
func conditionalWrite(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	h := req.Header
	return h.Get("If-Match") != "" || h.Get("If-None-Match") != "" || h.Get("If-None-Exist") != "" ||
		h.Get("If-Unmodified-Since") != ""
}

// notSent reports whether err proves that the request never reached the
// server, so that even a POST can be sent again.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
