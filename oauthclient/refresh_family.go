package oauthclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// refreshRecord is a family's newest refresh token as the store and the
// state file keep it (encrypted in Redis) and as the process remembers it.
type refreshRecord struct {
	Token string `json:"t"`
	Gen   int64  `json:"g"`           // rotations since the family's first token
	Dead  bool   `json:"d,omitempty"` // refused by the server: never sent again
	// Sending names the replica that is sending Token, or sent it and has
	// not learnt the outcome: an intent, written before the request
	// leaves. Nobody else sends Token while it stands.
	Sending string `json:"s,omitempty"`
	// Restored marks a record a replica wrote back after the store lost
	// the family's (a flush, a restart without persistence): the newest
	// token that replica knew, not proven the newest of the fleet.
	Restored bool `json:"r,omitempty"`
}

// settled returns rec as it stands once its request has an answer: no
// intent, nothing restored.
func (rec refreshRecord) settled() *refreshRecord {
	rec.Sending, rec.Restored = "", false
	return &rec
}

// newer returns the newer of a and b by generation, a when they tie.
func newer(a, b *refreshRecord) *refreshRecord {
	if a == nil || (b != nil && b.Gen > a.Gen) {
		return b
	}
	return a
}

// family is a refresh token family as the process knows it: a lock its
// sources take in turn, the newest record it knows and whether the store
// has that record yet.
type family struct {
	key  string
	id   string        // this process's name in the family's intents
	sem  chan struct{} // the family's lock in the process
	refs int           // open grants using the family and holders of its lock; guarded by familyTable.mu

	mu      sync.Mutex
	rec     *refreshRecord
	pending bool // rec is a rotation the shared store has not got yet
	loaded  bool // the state file was read
	// republishing: a grant's goroutine writes rec back to the store.
	republishing bool
}

// doneRepublishing marks the end of a grant's republishing goroutine.
func (f *family) doneRepublishing() {
	f.mu.Lock()
	f.republishing = false
	f.mu.Unlock()
}

// lock takes the family's lock, or gives up with ctx.
func (f *family) lock(ctx context.Context) (func(), error) {
	select {
	case f.sem <- struct{}{}:
		return func() { <-f.sem }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// known returns the newest record the process knows and whether the
// shared store still lacks it.
func (f *family) known() (*refreshRecord, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec, f.pending
}

// remember keeps r as the family's newest record when it is not older
// than the one known (a refusal of the known generation replaces it);
// pending says whether the shared store lacks it.
func (f *family) remember(r *refreshRecord, pending bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rec == nil || r.Gen >= f.rec.Gen {
		f.rec, f.pending = r, pending
	}
}

// published clears pending once the store holds r.
func (f *family) published(r *refreshRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rec != nil && f.rec.Gen == r.Gen && f.rec.Token == r.Token {
		f.pending = false
	}
}

// familyTable holds the families of the open grants of the process, by
// key. A family stays as long as one grant of the process uses it: two
// sources of one family (a definition and the one a reload replaced it
// with) take turns and share what they know; once the last is closed
// the family is forgotten, and what survives is what its durable places
// (the store, the state file, OnRotate) hold.
type familyTable struct {
	mu sync.Mutex
	m  map[string]*family
}

// families is the process's table of refresh token families in use.
var families familyTable

// acquire returns the family of key, counting one more user.
func (t *familyTable) acquire(key string) *family {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*family{}
	}
	f := t.m[key]
	if f == nil {
		f = &family{key: key, id: newReplicaID(), sem: make(chan struct{}, 1)}
		t.m[key] = f
	}
	f.refs++
	return f
}

// hold counts one more user of f, which is in the table.
func (t *familyTable) hold(f *family) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f.refs++
}

// release counts one user less, forgetting the family after its last.
func (t *familyTable) release(f *family) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f.refs--; f.refs <= 0 && t.m[f.key] == f {
		delete(t.m, f.key)
	}
}

// size is the number of families in use (for tests).
func (t *familyTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// newReplicaID names this process in a family's intents: random, so that
// a restarted process is never taken for the one that wrote an intent.
func newReplicaID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
