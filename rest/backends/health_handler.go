package backends

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
)

// HealthHandler answers readiness probes: a GET (or HEAD) runs
// [Registry.Check] with opts and answers 200 when every result that counts
// succeeded (a connection with readiness: optional does not; see the
// package documentation, "Readiness"), 503 Service Unavailable otherwise, with the
// [CheckReport] as JSON. Requests that arrive while a check runs share
// its report, so a burst of probes checks the backends once. Other
// methods get 405. The response is never cached (Cache-Control:
// no-store).
func HealthHandler(reg *Registry, opts ...CheckOption) http.Handler {
	return &healthHandler{checks{reg: reg, opts: opts}}
}

type healthHandler struct{ checks }

// checks runs the checks of a handler: requests that arrive while one runs
// share its report, so that a burst of requests checks the backends once.
type checks struct {
	reg  *Registry
	opts []CheckOption
	mu   sync.Mutex
	cur  *sharedCheck // the check running, if any
}

// sharedCheck is one check that several requests wait for.
type sharedCheck struct {
	done   chan struct{}
	rep    CheckReport
	joined int // requests that joined it; guarded by checks.mu
}

func (h *healthHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rep, ok := h.check(r.Context())
	if !ok {
		http.Error(w, "check abandoned: "+r.Context().Err().Error(), http.StatusServiceUnavailable)
		return
	}
	body, err := json.MarshalIndent(reportView(&rep), "", "  ")
	if err != nil {
		http.Error(w, "encoding the report failed", http.StatusInternalServerError)
		return
	}
	noStore(w.Header())
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	if !rep.OK {
		status = http.StatusServiceUnavailable
	}
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = w.Write(append(body, '\n'))
	}
}

// check joins the running check, or starts one, and waits for it or for
// ctx.
func (h *checks) check(ctx context.Context) (CheckReport, bool) { return h.join(ctx).wait(ctx) }

// join returns the running check, or starts one. The check runs on
// without the request's cancellation (others may wait for it), bounded by
// its own timeouts.
func (h *checks) join(ctx context.Context) *sharedCheck {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur != nil {
		h.cur.joined++
		return h.cur
	}
	sc := &sharedCheck{done: make(chan struct{}), joined: 1}
	h.cur = sc
	go func() {
		sc.rep = h.reg.Check(context.WithoutCancel(ctx), h.opts...)
		h.mu.Lock()
		h.cur = nil
		h.mu.Unlock()
		close(sc.done)
	}()
	return sc
}

// wait waits for the check's report, or for ctx.
func (sc *sharedCheck) wait(ctx context.Context) (CheckReport, bool) {
	select {
	case <-sc.done:
		return sc.rep, true
	case <-ctx.Done():
		return CheckReport{}, false
	}
}

// noStore marks a response that must not be cached or sniffed.
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}
