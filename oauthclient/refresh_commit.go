package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tokenwire/tokenwire/cache"
)

// verdict is what a replica may do with a family, given what the store
// and the process know: send a record's token, write one back first, or
// neither (why says what it cannot be sure of).
type verdict struct {
	send    *refreshRecord
	publish *refreshRecord
	why     string
}

// decide is the family's rule: a token is sent only when no other replica
// can have sent it. st is the shared store's record (nil: none, or no
// shared store), known the newest the process knows, pending whether the
// store lacks it because this process's write failed, me the process's
// name in intents and seed the supplied first token.
func (r *refreshGrant) decide(st, known *refreshRecord, pending bool, me, seed string) verdict {
	if r.shared == nil { // the process and its state file are the places of record
		switch {
		case known == nil:
			return verdict{send: &refreshRecord{Token: seed}}
		case known.Sending != "":
			return verdict{why: fmt.Sprintf("generation %d was sent and its answer never came (the process stopped, or the answer was lost): the server may have taken it: waiting for an operator", known.Gen)}
		}
		return verdict{send: known}
	}
	switch {
	case known != nil && known.Dead && (st == nil || known.Gen >= st.Gen):
		return verdict{send: known}
	case st == nil && known == nil:
		return verdict{send: &refreshRecord{Token: seed}} // the family's first use
	case known != nil && st != nil && st.Sending == me && known.Gen == st.Gen+1 && !known.Restored && !known.Dead:
		// The store holds this replica's own intent and the replica (its
		// state file, after a restart) holds the rotation that answered
		// it: the store missed the write, and nobody else can have sent
		// past an intent that still stands.
		return verdict{publish: known.settled(), send: known.settled()}
	case pending && (st == nil || known.Gen >= st.Gen):
		// This process rotated it (or learnt the server refused to take
		// it) and the store missed the write: nobody else saw it, so sure.
		return verdict{publish: known.settled(), send: known.settled()}
	case st == nil || (known != nil && known.Gen > st.Gen):
		back := known.settled()
		back.Restored = true
		why := "the store lost the family's record (restarted empty or flushed)"
		if st != nil {
			why = fmt.Sprintf("the store holds generation %d and this replica knows %d", st.Gen, known.Gen)
		}
		return verdict{publish: back, why: why + "; another replica may hold a newer token: waiting for it, or for an operator"}
	case st.Dead:
		return verdict{send: st}
	case st.Sending != "" && st.Sending != me:
		return verdict{why: fmt.Sprintf("another replica sent generation %d and has not reported the outcome: waiting for it, or for an operator", st.Gen)}
	case st.Sending != "":
		return verdict{why: fmt.Sprintf("generation %d was sent and its answer was lost: the server may have taken it: waiting for an operator", st.Gen)}
	case st.Restored:
		return verdict{why: fmt.Sprintf("generation %d was written back by a replica after the store lost the family and is not proven the newest: waiting for an operator", st.Gen)}
	}
	return verdict{send: st}
}

// wrap makes one refresh request with the family's newest refresh token,
// under the family's lock (taken by the source), and keeps what the
// server rotates in.
func (r *refreshGrant) wrap(ctx context.Context, p *prepared, send func(context.Context, *prepared) (*Token, error)) (*Token, error) {
	done, err := r.busy()
	if err != nil {
		return nil, err
	}
	defer done()
	fam, err := r.family(p.family, false)
	if err != nil {
		return nil, err
	}
	st, err := r.load(ctx, p.family, p.key)
	if err != nil {
		return nil, err
	}
	known, pending := fam.known()
	v := r.decide(st, known, pending, fam.id, p.state)
	if v.publish != nil {
		if err := r.commit(ctx, fam, p.family, v.publish, r.life); err != nil && v.send != nil {
			return nil, err
		}
	}
	if v.send == nil {
		return nil, r.uncertain(p.family, v.why)
	}
	rec := v.send
	if rec.Dead {
		return nil, &ReauthorizeError{Definition: r.def}
	}
	intent := rec.settled()
	intent.Sending = fam.id
	if err := r.commit(ctx, fam, p.family, intent, r.life); err != nil {
		return nil, fmt.Errorf("security definition %q: the refresh token was not sent: %w", r.def, err)
	}
	bound := r.bound
	if !p.fence.IsZero() && r.shared != nil {
		// The request must end while the fleet lock still stands, or
		// another replica may take it: a Redis slow enough to use up the
		// lock's lifetime before the request leaves means not sending.
		if bound = min(bound, time.Until(p.fence)-r.lockTTL/10); bound <= 0 {
			fam.remember(rec.settled(), true) // not sent: written back under a lock of its own
			r.republishLater(fam)
			return nil, fmt.Errorf("security definition %q: the store was too slow: the fleet lock would expire before the refresh request could end, so it was not sent", r.def)
		}
	}
	return r.send(ctx, fam, p, rec, bound, send)
}

// send sends rec's token and records the outcome in the family's places
// of record before it returns.
func (r *refreshGrant) send(ctx context.Context, fam *family, p *prepared, rec *refreshRecord, bound time.Duration, send func(context.Context, *prepared) (*Token, error)) (*Token, error) {
	p.form.Set("refresh_token", rec.Token)
	p.secrets = append(p.secrets, rec.Token)
	sendCtx := ctx
	if bound > 0 {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, bound)
		defer cancel()
	}
	var wrote atomic.Bool
	p.wrote = &wrote
	tok, err := send(sendCtx, p)
	switch {
	case errors.Is(err, ErrInvalidGrant):
		dead := rec.settled()
		dead.Dead = true
		r.logFailed(r.commit(ctx, fam, p.family, dead, r.life), "the refusal")
		r.log.Error("oauthclient: the refresh token was refused; an administrator must authorise again",
			slog.String("definition", r.def), slog.String("error", err.Error()))
		return nil, &ReauthorizeError{Definition: r.def, Err: err, sent: true}
	case err != nil && (!wrote.Load() || serverAnswered(err)): // the token was not taken
		r.logFailed(r.commit(ctx, fam, p.family, rec.settled(), r.life), "the refresh token's state")
		return nil, err
	case err != nil: // it left and no answer says what became of it: the intent stays
		r.log.Error("oauthclient: a refresh request left and its answer was lost; the server may have taken the token, so nobody sends it again",
			slog.String("definition", r.def), slog.String("family", familyName(p.family)), slog.String("error", err.Error()))
		return nil, err
	}
	next, _ := tok.cred.extra["refresh_token"].(string)
	if next != "" && next != rec.Token && validToken(next) {
		rot := &refreshRecord{Token: next, Gen: rec.Gen + 1}
		r.logFailed(r.commit(ctx, fam, p.family, rot, refreshLifetime(tok.cred.extra, r.life)), "the rotated refresh token")
		r.rotated(ctx, next)
	} else {
		r.logFailed(r.commit(ctx, fam, p.family, rec.settled(), r.life), "the refresh token's state")
	}
	return tok.without("refresh_token", "refresh_expires_in", "refresh_token_expires_in"), nil
}

// busy counts a refresh in progress, which close waits for: its outcome
// is in the places of record before Close returns, so that a process
// that exits after Close (a rolling deploy) leaves no intent behind for
// the fleet to wait on. Once the grant is closed no refresh starts.
func (r *refreshGrant) busy() (done func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("security definition %q: %w", r.def, ErrClosed)
	}
	r.wg.Add(1)
	return r.wg.Done, nil
}

// serverAnswered reports whether err is the authorization server's own
// answer, which says the token was not taken: an error response of the
// server (a gateway's 502 or 504 says nothing about it).
func serverAnswered(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode != 0 && e.StatusCode != http.StatusBadGateway &&
		e.StatusCode != http.StatusGatewayTimeout && !errors.Is(e.Err, ErrMalformedResponse)
}

// load returns the shared store's record of the family, read from the
// shared backend itself (never a local fallback); nil without a shared
// store or record.
// Before the family had a key of its own, its record was kept under the
// access token's key (legacy): it is read from there when the family's
// own holds none, so that an upgrade never sends the first token again.
func (r *refreshGrant) load(ctx context.Context, key, legacy string) (*refreshRecord, error) {
	if r.shared == nil {
		return nil, nil
	}
	e, err := r.shared.StrictGet(ctx, recordKey(key))
	if errors.Is(err, cache.ErrNotFound) {
		e, err = r.shared.StrictGet(ctx, recordKey(legacy))
	}
	switch {
	case errors.Is(err, cache.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("security definition %q: reading the refresh token from the store: %w (a refresh token is used only as the store has it)", r.def, err)
	}
	var rec refreshRecord
	if json.Unmarshal(e.Value, &rec) != nil || rec.Token == "" {
		return nil, fmt.Errorf("security definition %q: the store's refresh token record does not decode: not sent", r.def)
	}
	return &rec, nil
}

// commit makes rec the family's record in every place of record — the
// state file, then the shared store — and in the process. A record the
// store did not take is kept pending in the process and written back as
// soon as the store answers; an intent the state file did not take is
// written nowhere else, as it will not be sent. The error joins what
// failed.
func (r *refreshGrant) commit(ctx context.Context, fam *family, key string, rec *refreshRecord, life time.Duration) error {
	ferr := r.file.write(key, fam.id, rec)
	if ferr != nil && rec.Sending != "" { // an intent not kept is not sent: no replica may learn of it
		return ferr
	}
	var serr error
	if r.shared != nil {
		serr = r.publish(ctx, key, rec, life)
	}
	fam.remember(rec, serr != nil && rec.Sending == "")
	if serr != nil && rec.Sending == "" {
		r.republishLater(fam)
	}
	if ferr != nil || serr != nil {
		return errors.Join(ferr, serr)
	}
	return nil
}

// publish writes rec to the shared store; the fetch's deadline must not
// lose a rotation, so it has its own.
func (r *refreshGrant) publish(ctx context.Context, key string, rec *refreshRecord, life time.Duration) error {
	b, _ := json.Marshal(rec)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rotateTimeout)
	defer cancel()
	if err := r.shared.StrictSet(ctx, recordKey(key), cache.Entry{Value: b, Expiry: r.now().Add(life)}); err != nil {
		return fmt.Errorf("writing the refresh token to the store: %w", err)
	}
	return nil
}

// logFailed logs a commit that failed after the request was answered.
func (r *refreshGrant) logFailed(err error, what string) {
	if err != nil {
		r.log.Error("oauthclient: writing "+what+" to its places of record failed; the process keeps it and writes it back",
			slog.String("definition", r.def), slog.String("error", err.Error()))
	}
}

// uncertain reports a refresh not sent.
func (r *refreshGrant) uncertain(key, why string) error {
	err := &uncertainError{def: r.def, family: familyName(key), why: why}
	r.log.Error("oauthclient: a refresh token was held back", slog.String("definition", r.def),
		slog.String("family", err.family), slog.String("why", why))
	return err
}

// familyName is the short hash that names a family in errors and logs.
func familyName(key string) string {
	const n = 12
	if len(key) > 4+n {
		return key[4 : 4+n]
	}
	return key
}

// republishLater writes the family's pending record back once the store
// answers again, under the family's locks, so that the replicas waiting
// on this one's intent go on. It is the grant's goroutine: it ends when
// the record is in the store, a newer one replaced it, or the grant is
// closed.
func (r *refreshGrant) republishLater(fam *family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed { // it stays pending in the family: an open grant of it writes it back at its next refresh
		return
	}
	fam.mu.Lock()
	busy := fam.republishing
	fam.republishing = true
	fam.mu.Unlock()
	if busy {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("oauthclient: republishing a refresh token panicked", slog.String("definition", r.def), slog.Any("panic", p))
			}
		}()
		defer fam.doneRepublishing()
		wait := 50 * time.Millisecond
		for {
			t := time.NewTimer(wait)
			select {
			case <-r.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if done := r.republish(fam); done {
				return
			}
			wait = min(2*wait, 5*time.Second)
		}
	}()
}

// republish makes one attempt to write the family's pending record back;
// it reports whether nothing is left to do.
func (r *refreshGrant) republish(fam *family) bool {
	rec, pending := fam.known()
	if !pending {
		return true
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.lockTTL)
	defer cancel()
	unlock, err := fam.lock(ctx)
	if err != nil {
		return false
	}
	defer unlock()
	release, ok, err := r.shared.StrictTryLock(ctx, fam.key, r.lockTTL)
	if err != nil || !ok {
		return false
	}
	defer func() { _ = release(context.WithoutCancel(ctx)) }()
	if rec, pending = fam.known(); !pending {
		return true
	}
	st, err := r.load(ctx, fam.key, fam.key)
	if err != nil {
		return false
	}
	if st != nil && (st.Gen > rec.Gen || (st.Gen == rec.Gen && st.Sending != "" && st.Sending != fam.id)) {
		fam.published(rec) // another replica's newer record or intent stands: never overwritten
		return true
	}
	if err := r.publish(ctx, fam.key, rec, r.life); err != nil {
		return false
	}
	fam.published(rec)
	r.log.Info("oauthclient: the rotated refresh token is in the store again", slog.String("definition", r.def), slog.String("family", familyName(fam.key)))
	return true
}
