package logbuf

import (
	"strings"
	"sync"
	"testing"
)

// Many goroutines write while one reads (under -race): every write is
// there, whole, at the end.
func TestConcurrentWritesAndReads(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 1600 {
		t.Fatalf("%d lines, want 1600", n)
	}
}

// WaitFor returns once a goroutine has written the line.
func TestWaitForALineWrittenLater(t *testing.T) {
	var b Buffer
	go func() { _, _ = b.Write([]byte("msg=done\n")) }()
	b.WaitFor(t, "msg=done")
	if !strings.Contains(b.String(), "msg=done") {
		t.Fatal("WaitFor returned before the line was written")
	}
}
