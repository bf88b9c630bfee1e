package oauthclient

import (
	"sync/atomic"
	"time"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// TokenState is the state of a source's token in a [SourceStatus].
type TokenState string

// The states of a source's token.
const (
	// TokenNone: no token is held — none fetched yet, or the last one was
	// dropped (rejected by a backend, released, or the source closed).
	TokenNone TokenState = "none"
	// TokenFresh: a valid token, before its renewal time.
	TokenFresh TokenState = "fresh"
	// TokenStale: a valid token in its renewal window, being renewed in the
	// background (or about to be, at the next call).
	TokenStale TokenState = "stale"
	// TokenExpired: the token held is past its expiry and not yet replaced;
	// the next call waits for a new one.
	TokenExpired TokenState = "expired"
	// TokenBackingOff: the last fetch failed and no token request is made
	// before BackoffUntil; a token still valid (ExpiresAt) keeps being
	// served meanwhile.
	TokenBackingOff TokenState = "backing_off"
)

// SourceStatus is a snapshot of a [Source] for a status page or a health
// check: what it holds and how its fetches went, never a secret or a
// token. Times are on the source's clock (Options.Now); At is when the
// snapshot was taken, so that "expires in" is ExpiresAt.Sub(At). It
// encodes as JSON with the field names shown.
type SourceStatus struct {
	Definition string     `json:"definition"`
	Grant      string     `json:"grant"`                 // "client_credentials", "jwt_bearer", "token_exchange", "refresh_token", "login", "imported", or "custom" for NewSourceFrom
	AuthMethod AuthMethod `json:"auth_method,omitempty"` // client authentication; "" for NewSourceFrom
	DPoP       bool       `json:"dpop,omitempty"`        // tokens are DPoP-bound (RFC 9449)
	State      TokenState `json:"state"`
	At         time.Time  `json:"at"`
	ExpiresAt  time.Time  `json:"expires_at,omitzero"` // of the token held
	RenewAt    time.Time  `json:"renew_at,omitzero"`   // start of its renewal window
	Fetching   bool       `json:"fetching,omitempty"`  // a shared fetch is in flight
	LastFetch  time.Time  `json:"last_fetch,omitzero"` // when the last token was obtained (server or shared store)
	// LastError is the text of the last failed fetch, scrubbed of the
	// definition's secrets; it stays after a later success, with its time.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// CertificateProblem says why the client certificate files on disk
	// (Config.CertFile, KeyFile) are not the ones in use — half written, a
	// key of another certificate, unreadable — until a pair loads.
	CertificateProblem string    `json:"certificate_problem,omitempty"`
	BackoffUntil       time.Time `json:"backoff_until,omitzero"` // no token request before then
	Failures           int       `json:"failures,omitempty"`     // consecutive failed fetches
	// Requests counts the token requests made (a token taken from the
	// shared store makes none), RequestFailures those that failed, Resends
	// the requests the Transport sent again with a fresh token or proof.
	Requests        int64   `json:"requests"`
	RequestFailures int64   `json:"request_failures"`
	Resends         int64   `json:"resends"`
	Lookups         Lookups `json:"lookups"`
	Closed          bool    `json:"closed,omitempty"`
}

// Lookups counts token lookups by result, as the tokenwire.token.cache.lookups
// instrument does. Fresh lookups are counted by the [Transport] only, so
// that a warm Token or TokenContext stays one atomic load.
type Lookups struct {
	Fresh int64 `json:"fresh"` // a fresh token, from memory
	Stale int64 `json:"stale"` // a valid token served while it is renewed
	Miss  int64 `json:"miss"`  // no valid token: the caller waited for a fetch (or got its error)
	Store int64 `json:"store"` // a fetch that found its token in the shared store
}

// counts are a source's running totals. They live apart from the Source,
// so that their writes never share a cache line with the current token.
type counts struct {
	fresh, stale, miss, store   atomic.Int64
	requests, failures, resends atomic.Int64
	lastFetch                   atomic.Int64 // unix nanos of the last token obtained
	lastErr                     atomic.Pointer[errNote]
}

// errNote is a failed fetch as a status shows it.
type errNote struct {
	text string
	at   time.Time
}

// lookups returns the lookup counts in the order of telemetry.results.
func (c *counts) lookups() [4]int64 {
	return [4]int64{c.fresh.Load(), c.stale.Load(), c.miss.Load(), c.store.Load()}
}

// Status returns a snapshot of the source. It is cheap (atomic loads and a
// short lock) and safe to call concurrently with everything else.
func (s *Source) Status() SourceStatus {
	now := s.opts.Now()
	st := SourceStatus{Definition: s.name, Grant: s.grant, AuthMethod: s.method, DPoP: s.dpop != nil, At: now,
		Requests: s.counts.requests.Load(), RequestFailures: s.counts.failures.Load(), Resends: s.counts.resends.Load()}
	l := s.counts.lookups()
	st.Lookups = Lookups{Fresh: l[0], Stale: l[1], Miss: l[2], Store: l[3]}
	if n := s.counts.lastFetch.Load(); n != 0 {
		st.LastFetch = time.Unix(0, n)
	}
	if e := s.counts.lastErr.Load(); e != nil {
		st.LastError, st.LastErrorAt = e.text, e.at
	}
	if s.certs != nil {
		if p := s.certs.problem.Load(); p != nil {
			st.CertificateProblem = *p
		}
	}
	s.mu.Lock()
	st.Failures, st.Closed, st.Fetching = s.failures, s.closed, s.inflight != nil
	s.mu.Unlock()
	if nb := s.notBefore.Load(); nb != 0 && now.UnixNano() < nb {
		st.BackoffUntil = time.Unix(0, nb)
	}
	var c *current
	if st.State, c = s.tokenState(now, !st.BackoffUntil.IsZero()); c != nil {
		st.ExpiresAt, st.RenewAt = c.tok.expiry, c.renewAt
	}
	return st
}

// noteError keeps err for [Source.Status], scrubbed.
func (s *Source) noteError(err error) {
	s.counts.lastErr.Store(&errNote{text: s.errText(err), at: s.opts.Now()})
}

// errText is err's text scrubbed of the definition's secrets: token errors
// are built without them, and this is the second line of defence for what
// a status page or a log shows.
func (s *Source) errText(err error) string {
	values := make([]string, len(s.secrets))
	for i, v := range s.secrets {
		values[i] = v.Reveal()
	}
	return redact.Values(err.Error(), values...)
}

// hidden holds values as Secrets, so that no fmt verb reaches them through
// the struct that keeps them.
func hidden(values []string) []Secret {
	out := make([]Secret, len(values))
	for i, v := range values {
		out[i] = NewSecret(v)
	}
	return out
}

// RegistryStatus is a snapshot of a [Registry]: each source's status, sorted
// by definition name, and its store's.
type RegistryStatus struct {
	Sources []SourceStatus `json:"sources"`
	Store   *cache.Status  `json:"store,omitempty"` // nil without a store
}

// Status returns a snapshot of every source and of the store the
// registry's sources share.
func (r *Registry) Status() RegistryStatus {
	st := RegistryStatus{Sources: []SourceStatus{}}
	for _, name := range r.Names() {
		if s, ok := r.srcs.Get(name); ok {
			st.Sources = append(st.Sources, s.Status())
		}
	}
	if r.opts.Store != nil {
		cs := cache.StatusOf(r.opts.Store)
		st.Store = &cs
	}
	return st
}
