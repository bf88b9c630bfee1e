package main

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

func TestRun(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error { // no real waiting
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return ctx.Err()
	}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, fhir.ExportSleep(sleep)))
	text := out.String()
	t.Log("\n" + text)

	assert.Contains(t, text, "seeded 8 Patients and 24 Observations\n")
	assert.Contains(t, text, "  polling: 202 0% done, next poll in 1s\n  polling: 202 33% done, next poll in 1s\n")
	assert.Contains(t, text, "complete: 2 files, requiresAccessToken true\n")
	assert.Contains(t, text, "  Observation: 24 resources (manifest: 24), 0 bad lines\n")
	assert.Contains(t, text, "  Patient: 8 resources (manifest: 8), 0 bad lines\n")
	assert.Contains(t, text, "total: 32 resources\n")
	assert.Contains(t, text, "token requests: 1 ")
	assert.Equal(t, []time.Duration{time.Second, time.Second}, waits)
	assert.NotContains(t, text, "PRIVATE KEY")
}
