package fakeclock

import (
	"context"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	c := New()
	if !c.Now().Equal(Start) {
		t.Fatalf("New starts at %v", c.Now())
	}
	c.Advance(time.Minute)
	if err := c.Sleep(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(Start); got != time.Minute+time.Second {
		t.Fatalf("moved %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("a cancelled sleep: %v", err)
	}
	if s := c.Sleeps(); len(s) != 2 || s[0] != time.Second || s[1] != time.Hour {
		t.Fatalf("sleeps %v", s)
	}
	c.Set(Start)
	if !c.Now().Equal(Start) {
		t.Fatal("Set")
	}
}
