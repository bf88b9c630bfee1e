package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokenwire/tokenwire/internal/callctx"
)

// send runs one call: its span, its attempts, its duration and counts.
// optIn allows retrying a non-idempotent request.
//
// A call that failed because its caller cancelled its context is the
// caller's doing, not the backend's: its span and duration are recorded
// like any call that got no response (error.type canceled), but it is not
// counted in the stats and is logged at debug level only. A caller's
// deadline that passed is counted: the backend did not answer in time.
func (c *Conn) send(req *http.Request, optIn bool) (*http.Response, int, error) {
	req, span := c.tel.start(req)
	begin := c.now()
	resp, attempts, err := c.attempts(req, optIn)
	end := c.now()
	if resp != nil && resp.Request == nil { // a RoundTripper's own (net/http's set it)
		resp.Request = req // an error shows its URL and blanks its query values from the excerpt
	}
	ctx := req.Context()
	c.tel.end(ctx, span, req, resp, attempts, err, end.Sub(begin))
	level, msg := slog.LevelWarn, "rest: call failed"
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		level, msg = slog.LevelDebug, "rest: call ended by its caller"
	} else {
		c.stats.record(req, resp, attempts, err, end.Sub(begin), end)
	}
	if err != nil && c.log.Enabled(ctx, level) {
		c.log.LogAttrs(ctx, level, msg, slog.String("conn", c.name), slog.String("method", req.Method),
			slog.String("url", attrURL(req.URL)), slog.Int("attempts", attempts), slog.String("error", causeText(err)))
	}
	return resp, attempts, err
}

// attempts runs the attempts of one call.
func (c *Conn) attempts(req *http.Request, optIn bool) (*http.Response, int, error) {
	ctx := req.Context()
	p := c.retry
	mayRepeat := optIn || p.RetryNonIdempotent || idempotent(req) || callctx.IsRetryable(ctx)
	canRewind := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	start := c.now()
	var elapsed time.Duration // before this attempt
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, req, min(c.timeout, p.MaxElapsed-elapsed))
		retry, cerr := p.CheckRetry(ctx, resp, err)
		if cerr != nil {
			closeIf(resp)
			return nil, attempt, c.fail(req, cerr, attempt)
		}
		safe := (err != nil && notSent(err)) || (mayRepeat && (err == nil || !conditionalWrite(req)))
		if !retry || !safe || !canRewind || attempt >= p.MaxAttempts {
			return c.result(req, resp, err, attempt)
		}
		wait := retryAfter(resp, c.now())
		if wait <= 0 {
			wait = p.Backoff(p.MinWait, p.MaxWait, attempt, resp)
		}
		// Written so that a huge wait cannot overflow: give up when no
		// time would be left for the next attempt.
		if elapsed = c.now().Sub(start); wait >= p.MaxElapsed-elapsed {
			return c.result(req, resp, err, attempt)
		}
		elapsed += wait
		retrying(ctx, attempt, resp, err, wait)
		closeIf(resp)
		if c.log.Enabled(ctx, slog.LevelDebug) {
			c.log.LogAttrs(ctx, slog.LevelDebug, "rest: retrying", slog.String("conn", c.name), slog.String("method", req.Method),
				slog.String("url", attrURL(req.URL)), slog.Int("attempt", attempt), slog.Duration("wait", wait))
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, attempt, c.fail(req, err, attempt)
		}
		next, err := rewind(req)
		if err != nil {
			return nil, attempt, c.fail(req, err, attempt)
		}
		req = next
	}
}

// attempt sends req once, bounded by d (the connection's timeout, or less
// when the policy's MaxElapsed ends sooner) until its body is closed.
func (c *Conn) attempt(ctx context.Context, req *http.Request, d time.Duration) (*http.Response, error) {
	actx, cancel := context.WithTimeout(ctx, d)
	resp, err := c.client.Do(req.WithContext(actx))
	if err != nil {
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = &timeoutError{d: d, err: transportError(err)}
		}
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends an attempt's timeout when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// timeoutError is an attempt that outlived the connection's timeout.
type timeoutError struct {
	d   time.Duration
	err error
}

func (e *timeoutError) Error() string { return fmt.Sprintf("timeout after %s", e.d) }
func (e *timeoutError) Unwrap() error { return e.err }
func (e *timeoutError) Timeout() bool { return true }

func (c *Conn) result(req *http.Request, resp *http.Response, err error, attempts int) (*http.Response, int, error) {
	if err != nil {
		return nil, attempts, c.fail(req, err, attempts)
	}
	return resp, attempts, nil
}

func closeIf(resp *http.Response) {
	if resp != nil {
		drain(resp)
	}
}

var errNoRewind = errors.New("rest: request body cannot be replayed")

// rewind returns a copy of req with a fresh body.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errNoRewind
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}
