package rest

import (
	"fmt"
	"github.com/tokenwire/tokenwire/internal/redact"
	"net/http"
	"sync/atomic"
	"time"
)

// ConnStats is a snapshot of a connection's calls for a status page or a
// health check. A call is what [Conn.Do], [Conn.Get] and the like send,
// its retries included; it never holds a secret, a token or a query value.
// It encodes as JSON with the names shown.
//
// A call that its caller cancelled (the service's own client hung up) is
// not counted at all: it says nothing of the backend. A call whose
// caller's deadline passed before an answer came is counted as a
// transport error, as one that outlived the connection's own timeout: a
// backend too slow for its callers shows.
type ConnStats struct {
	Name         string `json:"name"`
	BaseURL      string `json:"base_url"`           // without user info and with every query value masked
	Security     string `json:"security,omitempty"` // the definition's name; "" for none
	SecurityKind string `json:"security_kind"`      // oauth2, basic, bearer, apikey, none, or custom
	Calls        int64  `json:"calls"`
	// Errors counts the calls that failed: no response (TransportErrors)
	// or a status of 400 or more (ClientErrors, ServerErrors).
	Errors          int64 `json:"errors"`
	ClientErrors    int64 `json:"client_errors"`
	ServerErrors    int64 `json:"server_errors"`
	TransportErrors int64 `json:"transport_errors"`
	Retries         int64 `json:"retries"` // attempts beyond the first of each call
	LastStatus      int   `json:"last_status,omitempty"`
	// LastCall is when the last call ended, on the connection's clock.
	LastCall time.Time `json:"last_call,omitzero"`
	// LastError is the last failed call: method, URL without query values,
	// and the status or the redacted cause.
	LastError   string         `json:"last_error,omitempty"`
	LastErrorAt time.Time      `json:"last_error_at,omitzero"`
	Latency     LatencySummary `json:"latency"`
}

// LatencySummary summarises the duration of a connection's calls (until
// the response headers, retries included). The quantiles are estimates: the
// upper bound of the bucket they fall in (the buckets of
// http.client.request.duration, 5 ms to 10 s), or Max beyond it. The
// status page of rest/backends shows them in milliseconds ("last_ms"…).
type LatencySummary struct {
	Last, Mean, Max, P50, P95, P99 time.Duration
}

// latencyBounds are the buckets' upper bounds.
var latencyBounds = func() [len(durationBuckets)]time.Duration {
	var b [len(durationBuckets)]time.Duration
	for i, s := range durationBuckets {
		b[i] = time.Duration(s * float64(time.Second))
	}
	return b
}()

// connStats are a connection's running totals, kept with atomics.
type connStats struct {
	calls, clientErrs, serverErrs, transportErrs, retries atomic.Int64
	lastStatus, lastNanos, lastCall, lastErrAt            atomic.Int64
	totalNanos, maxNanos                                  atomic.Int64
	buckets                                               [len(durationBuckets) + 1]atomic.Int64
	lastErr                                               atomic.Pointer[string]
}

// record counts one call that ended at now after d.
func (s *connStats) record(req *http.Request, resp *http.Response, attempts int, err error, d time.Duration, now time.Time) {
	s.calls.Add(1)
	s.retries.Add(int64(attempts - 1))
	s.lastNanos.Store(int64(d))
	s.lastCall.Store(now.UnixNano())
	s.totalNanos.Add(int64(d))
	for m := s.maxNanos.Load(); int64(d) > m; m = s.maxNanos.Load() {
		if s.maxNanos.CompareAndSwap(m, int64(d)) {
			break
		}
	}
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	s.buckets[i].Add(1)
	var what string
	switch {
	case err != nil:
		s.transportErrs.Add(1)
		s.lastStatus.Store(0)
		what = causeText(err)
	case resp.StatusCode >= 500:
		s.serverErrs.Add(1)
	case resp.StatusCode >= 400:
		s.clientErrs.Add(1)
	}
	if resp != nil {
		s.lastStatus.Store(int64(resp.StatusCode))
		what = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	if err != nil || resp.StatusCode >= 400 {
		msg := fmt.Sprintf("%s %s: %s", req.Method, attrURL(req.URL), what)
		s.lastErr.Store(&msg)
		s.lastErrAt.Store(now.UnixNano())
	}
}

// Stats returns a snapshot of the connection's calls. It is a few atomic
// loads, safe to call at any time.
func (c *Conn) Stats() ConnStats {
	s := c.stats
	st := ConnStats{Name: c.name, BaseURL: c.red.text(redact.URL(c.base, nil)), Security: c.secName, SecurityKind: c.secKind,
		Calls: s.calls.Load(), ClientErrors: s.clientErrs.Load(), ServerErrors: s.serverErrs.Load(),
		TransportErrors: s.transportErrs.Load(), Retries: s.retries.Load(), LastStatus: int(s.lastStatus.Load())}
	st.Errors = st.ClientErrors + st.ServerErrors + st.TransportErrors
	if n := s.lastCall.Load(); n != 0 {
		st.LastCall = time.Unix(0, n)
	}
	if p := s.lastErr.Load(); p != nil {
		st.LastError, st.LastErrorAt = *p, time.Unix(0, s.lastErrAt.Load())
	}
	st.Latency = s.latency(st.Calls)
	return st
}

// latency summarises the durations of n calls.
func (s *connStats) latency(n int64) LatencySummary {
	l := LatencySummary{Last: time.Duration(s.lastNanos.Load()), Max: time.Duration(s.maxNanos.Load())}
	if n == 0 {
		return l
	}
	l.Mean = time.Duration(s.totalNanos.Load() / n)
	var counts [len(durationBuckets) + 1]int64
	var total int64
	for i := range counts {
		counts[i] = s.buckets[i].Load()
		total += counts[i]
	}
	l.P50, l.P95, l.P99 = s.quantile(counts, total, 0.50, l.Max), s.quantile(counts, total, 0.95, l.Max), s.quantile(counts, total, 0.99, l.Max)
	return l
}

// quantile is the upper bound of the bucket holding quantile q, at most max.
func (s *connStats) quantile(counts [len(durationBuckets) + 1]int64, total int64, q float64, max time.Duration) time.Duration {
	rank := int64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, n := range counts {
		if seen += n; seen >= rank {
			if i < len(latencyBounds) && latencyBounds[i] < max {
				return latencyBounds[i]
			}
			return max
		}
	}
	return max
}

// securityKind names the kind of sec for [ConnStats].
func securityKind(sec Security) string {
	switch s := sec.(type) {
	case noneSecurity:
		return "none"
	case oauthSecurity:
		return "oauth2"
	case *headerSecurity:
		return s.kind
	case *querySecurity:
		return "apikey"
	}
	return "custom"
}

// securityName is the name of the definition a connection uses: the one
// its configuration names, or the OAuth source's.
func securityName(cfg ConnConfig, sec Security) string {
	if o, ok := sec.(oauthSecurity); ok && cfg.Security == "" {
		return o.src.Name()
	}
	return cfg.Security
}
