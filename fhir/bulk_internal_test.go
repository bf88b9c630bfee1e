package fhir

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The default sleep ends with its context, and never sleeps for nothing.
func TestDefaultExportSleep(t *testing.T) {
	sleep := exportConfig(nil).sleep
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, sleep(ctx, time.Hour), context.Canceled)
	assert.NoError(t, sleep(t.Context(), 0))
}

func TestContentRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 100-199/*", 100, -1, true},
		{"bytes */200", -1, 200, true},
		{" bytes 0-0/1 ", 0, 1, true},
		{"", 0, 0, false},
		{"bytes 100-199", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"bytes x-1/2", 0, 2, false},
		{"bytes 1-2/x", 0, 0, false},
	} {
		start, size, ok := contentRange(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		if ok {
			assert.Equal(t, [2]int64{tc.start, tc.size}, [2]int64{start, size}, tc.in)
		}
	}
}
