package backoff

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDelay(t *testing.T) {
	p := Policy{Min: time.Second, Max: 10 * time.Second}
	for _, tc := range []struct {
		name    string
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{"first low", 0, 0, 500 * time.Millisecond},
		{"first high", 0, 0.999999999, time.Second},
		{"third", 2, 0, 2 * time.Second},
		{"capped", 10, 0, 5 * time.Second},
		{"huge attempt no overflow", 1000, 0, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Rand = func() float64 { return tc.rnd }
			assert.InDelta(t, float64(tc.want), float64(p.Delay(tc.attempt)), float64(time.Microsecond))
		})
	}
}

func TestDelayDefaults(t *testing.T) {
	d := Policy{Rand: func() float64 { return 0 }}.Delay(0)
	assert.Equal(t, 500*time.Millisecond, d)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   string
		want time.Duration
	}{
		{"empty", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"negative", "-5", 0},
		{"spaces", " 7 ", 7 * time.Second},
		{"overflowing", "9300000000", time.Duration(1<<63 - 1)},
		{"beyond int64", "99999999999999999999", time.Duration(1<<63 - 1)},
		{"garbage", "soon", 0},
		{"date", now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{"past date", now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, RetryAfter(tc.in, now))
		})
	}
}

// A wait ends with its context: a cancelled one at once, whatever the
// delay; otherwise it ends after the delay, without an error.
func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled)
	assert.NoError(t, Sleep(context.Background(), 0))
	assert.NoError(t, Sleep(context.Background(), time.Nanosecond))
}
