package rest

import (
	"errors"
	"log/slog"
	"net/http"
)

// send runs the attempts of one call. optIn allows retrying a
// non-idempotent request.
func (c *Conn) send(req *http.Request, optIn bool) (*http.Response, int, error) {
	ctx := req.Context()
	p := c.retry
	mayRepeat := optIn || p.RetryNonIdempotent || idempotent(req)
	canRewind := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	start := c.now()
	for attempt := 1; ; attempt++ {
		resp, err := c.client.Do(req)
		retry, cerr := p.CheckRetry(ctx, resp, err)
		if cerr != nil {
			closeIf(resp)
			return nil, attempt, c.fail(req, cerr, attempt)
		}
		safe := mayRepeat || (err != nil && notSent(err))
		if !retry || !safe || !canRewind || attempt >= p.MaxAttempts {
			return c.result(req, resp, err, attempt)
		}
		wait := retryAfter(resp, c.now())
		if wait <= 0 {
			wait = p.Backoff(p.MinWait, p.MaxWait, attempt, resp)
		}
		if c.now().Add(wait).Sub(start) > p.MaxElapsed {
			return c.result(req, resp, err, attempt)
		}
		closeIf(resp)
		c.log.LogAttrs(ctx, slog.LevelDebug, "rest: retrying", slog.String("conn", c.name), slog.String("method", req.Method),
			slog.String("url", c.red.url(req.URL)), slog.Int("attempt", attempt), slog.Duration("wait", wait))
		if err := c.sleep(ctx, wait); err != nil {
			return nil, attempt, c.fail(req, err, attempt)
		}
		if req, err = rewind(req); err != nil {
			return nil, attempt, c.fail(req, err, attempt)
		}
	}
}

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
