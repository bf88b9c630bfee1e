package fhir

import (
	"context"
	"fmt"
	"sync"
)

// capCache keeps a connection's CapabilityStatement: the last one read
// successfully, and the read under way that callers share.
type capCache struct {
	mu     sync.Mutex
	cur    *serverCaps // nil until a read succeeds
	flight *capFlight  // the read under way, or nil
}

// capFlight is one read of metadata shared by its waiters. It runs
// detached from every caller's context (one caller's cancellation is its
// own) and is cancelled when its last waiter leaves.
type capFlight struct {
	done    chan struct{}
	caps    *serverCaps
	err     error
	waiters int // guarded by capCache.mu
	cancel  context.CancelFunc
}

// serverCaps returns the kept statement, or waits for a read of it (one
// for all concurrent callers); refresh reads again even when one is kept.
func (c *Conn) serverCaps(ctx context.Context, refresh bool) (*serverCaps, error) {
	f, cur := c.joinCaps(ctx, refresh)
	if cur != nil {
		return cur, nil
	}
	select {
	case <-f.done:
		return f.caps, f.err
	case <-ctx.Done():
		c.leaveCaps(f)
		return nil, fmt.Errorf("fhir: %s: waiting for metadata: %w", c.name, context.Cause(ctx))
	}
}

// joinCaps returns the kept statement, or the read to wait for (started
// when none is under way).
func (c *Conn) joinCaps(ctx context.Context, refresh bool) (*capFlight, *serverCaps) {
	cc := &c.caps
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.cur != nil && !refresh {
		return nil, cc.cur
	}
	if cc.flight == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cc.flight = &capFlight{done: make(chan struct{}), cancel: cancel}
		go c.runCaps(fctx, cc.flight)
	}
	cc.flight.waiters++
	return cc.flight, nil
}

// leaveCaps is a waiter giving up; the last one cancels the read, and
// later callers start a new one.
func (c *Conn) leaveCaps(f *capFlight) {
	cc := &c.caps
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if f.waiters--; f.waiters == 0 {
		f.cancel()
		if cc.flight == f {
			cc.flight = nil
		}
	}
}

// runCaps performs the shared read f; a successful one is kept.
func (c *Conn) runCaps(ctx context.Context, f *capFlight) {
	defer f.cancel()
	sc, err := c.readCaps(ctx)
	cc := &c.caps
	cc.mu.Lock()
	if err == nil {
		cc.cur = sc
	}
	if cc.flight == f {
		cc.flight = nil
	}
	cc.mu.Unlock()
	f.caps, f.err = sc, err
	close(f.done)
}
