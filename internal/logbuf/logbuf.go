// Package logbuf is a log destination for tests: a buffer that the
// goroutines of a logger, a source or a program write to while the test
// reads it. It is test support only.
package logbuf

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent writes and reads; the zero
// value is empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor waits until s has been written, for a line that a goroutine
// logs at its end: the wait is for that event, bounded by a generous
// deadline only so that a line never written fails the test rather than
// hanging it.
func (b *Buffer) WaitFor(tb testing.TB, s string) {
	tb.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(b.String(), s) {
		select {
		case <-tick.C:
		case <-deadline:
			tb.Fatalf("never logged: %s", s)
		}
	}
}
