// Package backoff computes capped exponential delays with jitter, shared by
// the token source (renewal after a failure) and the REST retry policy, and
// waits them out.
package backoff

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy is a capped exponential backoff: the n-th delay (n from 0) is
// Min·2ⁿ, at most Max, with "full jitter" on its upper half so that many
// clients failing together do not retry together.
type Policy struct {
	Min time.Duration // first delay; default 1s
	Max time.Duration // cap; default 5m
	// Rand returns a float in [0,1); default math/rand/v2. Tests may inject
	// a constant to make delays exact.
	Rand func() float64
}

// Delay returns the delay before retry number attempt (0 = first retry).
// The result lies in [d/2, d] where d = min(Min·2^attempt, Max).
func (p Policy) Delay(attempt int) time.Duration {
	lo, hi := p.Min, p.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 5 * time.Minute
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	if d > hi || d <= 0 {
		d = hi
	}
	r := p.Rand
	if r == nil {
		r = rand.Float64
	}
	half := d / 2
	return half + time.Duration(r()*float64(d-half))
}

const maxDuration = time.Duration(1<<63 - 1)

// RetryAfter parses a Retry-After header value (delay-seconds or an
// HTTP-date, RFC 9110 §10.2.3) relative to now. It returns 0 when the value
// is absent, malformed or in the past.
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if errors.Is(err, strconv.ErrRange) && s > 0 {
		return maxDuration
	}
	if err == nil {
		if s <= 0 {
			return 0
		}
		if s > int64(maxDuration/time.Second) {
			return maxDuration // would overflow: "never", in effect
		}
		return time.Duration(s) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Sleep waits d or until ctx is done, whichever comes first: nil after d,
// ctx's error when ctx ends the wait (at once for a done ctx, whatever d).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
