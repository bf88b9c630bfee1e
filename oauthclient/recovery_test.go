package oauthclient

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outage runs a source through an outage of the given length (simulated
// time), with a caller every step, then lets the server answer again and
// returns how long the first successful token took to come, and how many
// fetches reached the server during the outage.
func outage(tb testing.TB, opts Options, length, step time.Duration) (recovery time.Duration, attempts int32) {
	tb.Helper()
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	f.setFail(errors.New("dial tcp: connection refused"))
	opts.MaxBackoffWait = -1 // callers fail fast: the clock is simulated
	s := newTestSource(f, opts)
	for t := time.Duration(0); t < length; t += step {
		_, _ = s.TokenContext(context.Background())
		f.clk.Advance(step)
	}
	attempts = f.calls.Load()
	f.setFail(nil) // the server answers again
	back := f.clk.Now()
	for {
		if _, err := s.TokenContext(context.Background()); err == nil {
			return f.clk.Now().Sub(back), attempts
		}
		f.clk.Advance(step)
	}
}

// After a long outage the server is noticed soon after it answers again:
// the wait after failures that may fix themselves is capped by
// MaxRecovery (30s), however long the outage was, while the attempts during
// the outage stay few (no storm).
func TestRecoveryAfterALongOutageIsBounded(t *testing.T) {
	recovery, attempts := outage(t, Options{}, 2*time.Hour, time.Second)
	assert.LessOrEqual(t, recovery, defaultMaxRecovery+time.Second)
	assert.LessOrEqual(t, attempts, int32(2*time.Hour/(defaultMaxRecovery/2)), "about one attempt per MaxRecovery, never a storm")

	// (Without the cap the wait is jittered up to MaxBackoff: see
	// BenchmarkRecoveryAfterOutage for the two side by side.)
}

// Errors that will not go away by themselves still back off up to
// MaxBackoff.
func TestPermanentErrorsAreNotCappedByMaxRecovery(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 401, Code: "invalid_client"})
	s := newTestSource(f, Options{MaxBackoffWait: -1})
	for range 8 { // eight failed attempts, each after its backoff
		f.clk.Advance(10 * time.Minute)
		_, _ = s.TokenContext(context.Background())
	}
	require.Equal(t, int32(8), f.calls.Load())
	_, err := s.TokenContext(context.Background()) // right after a failure: backing off
	var be *BackoffError
	require.ErrorAs(t, err, &be)
	assert.Greater(t, be.Until.Sub(f.clk.Now()), defaultMaxRecovery)
}

// BenchmarkRecoveryAfterOutage reports, for a one-hour outage with a
// caller every second (simulated time), how long after the server answers
// again the first token comes (recovery-s) and how many fetches reached the
// server during the outage (attempts), with tokenwire's default and with
// the recovery cap lifted to MaxBackoff (5m), the backoff of wave 1.
func BenchmarkRecoveryAfterOutage(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"tokenwire", Options{}},
		{"no-recovery-cap", Options{MaxRecovery: 5 * time.Minute}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var rec time.Duration
			var att int32
			for b.Loop() {
				rec, att = outage(b, tc.opts, time.Hour, time.Second)
			}
			b.ReportMetric(rec.Seconds(), "recovery-s")
			b.ReportMetric(float64(att), "attempts")
		})
	}
}
