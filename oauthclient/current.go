package oauthclient

import (
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// The phases of the current token.
const (
	fresh   int32 = iota // before its renewal time
	stale                // in its renewal window, still valid
	expired              // past its expiry
)

// current is the token being served with its precomputed deadlines. With
// the real clock, two timers flip its phase at the renewal time and at
// expiry, so that the hot path reads no clock at all; with an injected
// clock, the phase is computed from the clock on every call.
type current struct {
	tok     *Token
	o2      *oauth2.Token
	renewAt time.Time
	ph      atomic.Int32
	timers  [2]*time.Timer
}

// phase returns c's phase: one atomic load with the real clock.
func (s *Source) phase(c *current) int32 {
	if s.timed {
		return c.ph.Load()
	}
	now := s.opts.Now()
	switch {
	case now.Before(c.renewAt):
		return fresh
	case now.Before(c.tok.expiry):
		return stale
	}
	return expired
}

// setCurrent makes t the token served, with its renewal time.
func (s *Source) setCurrent(t *Token) {
	now := s.opts.Now()
	issued := t.issued
	if issued.IsZero() {
		issued = now
	}
	c := &current{tok: t, o2: t.OAuth2(), renewAt: t.expiry.Add(-s.opts.RenewWindow(t.expiry.Sub(issued)))}
	if s.timed {
		c.timers[0] = time.AfterFunc(c.renewAt.Sub(now), func() { c.ph.CompareAndSwap(fresh, stale) })
		c.timers[1] = time.AfterFunc(t.expiry.Sub(now), func() { c.ph.Store(expired) })
	}
	if old := s.cur.Swap(c); old != nil {
		old.stop()
	}
}

// stop releases c's timers once it is no longer served.
func (c *current) stop() {
	for _, t := range c.timers {
		if t != nil {
			t.Stop()
		}
	}
}
