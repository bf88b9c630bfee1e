package leaktest

import "testing"

func TestStartedSeesAGoroutine(t *testing.T) {
	stop := make(chan struct{})
	running := make(chan struct{})
	got := Started(func() {
		go func() { close(running); <-stop }()
		<-running
	})
	close(stop)
	if len(got) != 1 {
		t.Fatalf("want the one goroutine started, got %d: %q", len(got), got)
	}
	if got := Started(func() {}); len(got) != 0 {
		t.Fatalf("want none, got %q", got)
	}
}
