package rest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The latency summary's quantiles are the bounds of the buckets they fall
// in, never beyond the largest latency seen.
func TestLatencySummary(t *testing.T) {
	var s connStats
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/x", nil)
	ok := &http.Response{StatusCode: 200}
	for range 90 {
		s.record(req, ok, 1, nil, 3*time.Millisecond, time.Now())
	}
	for range 9 {
		s.record(req, ok, 1, nil, 40*time.Millisecond, time.Now())
	}
	s.record(req, ok, 1, nil, 20*time.Second, time.Now())
	l := s.latency(s.calls.Load())
	assert.Equal(t, 5*time.Millisecond, l.P50)
	assert.Equal(t, 50*time.Millisecond, l.P95)
	assert.Equal(t, 50*time.Millisecond, l.P99)
	assert.Equal(t, 20*time.Second, l.Max)
	assert.Equal(t, 20*time.Second, l.Last)
	assert.Equal(t, (90*3*time.Millisecond+9*40*time.Millisecond+20*time.Second)/100, l.Mean)
}
