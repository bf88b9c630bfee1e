package backends

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// StatusOption adjusts [StatusHandler].
type StatusOption func(*statusHandler)

// AllowRenew turns on the page's "renew now" action: a button per OAuth
// definition that drops its current token and fetches a new one. It takes
// a POST from the page itself only: the request must come from the
// page's own origin (Sec-Fetch-Site: same-origin, or a matching Origin
// header; a request with neither is refused) and carry the anti-forgery
// token the page embeds (random per handler). Anything else gets 403.
// A renewal within the token source's MinBackoff of the previous one
// keeps the token (the source never drops tokens faster than that), and
// a definition backing off keeps the token it still has.
func AllowRenew() StatusOption { return func(h *statusHandler) { h.renew = true } }

// AllowHosts adds the hosts (a name, or a name and port) that requests
// to the status page may name in their Host header. By default the page
// answers only to loopback names (localhost, 127.0.0.1, ::1) and to the
// address it is listening on; a request naming any other host gets 403,
// so that a page of another site cannot reach it by rebinding its DNS
// name to this address. Mount the page behind a name of your own? Allow
// that name.
func AllowHosts(hosts ...string) StatusOption {
	return func(h *statusHandler) {
		for _, host := range hosts {
			h.hosts = append(h.hosts, strings.ToLower(host))
		}
	}
}

// StatusHandler serves a status page of reg for people, and the same as
// JSON for programs: every security definition (kind, token state, expiry,
// last fetch, last error, token requests), every connection (kind, base
// URL redacted, security, calls, errors, last status, latency) and the
// token store (kind, reachable, breaker). Mount it where operators reach
// it and the public does not, e.g.
//
//	mux.Handle("/debug/tokenwire/", http.StripPrefix("/debug/tokenwire", backends.StatusHandler(reg)))
//
// It works under any path (its links are relative queries): a GET or HEAD
// is the HTML page; ?format=json is the JSON view; ?check=1 adds a run of
// [Registry.Check] to either (refused, 403, to a request a browser says
// comes from another site: checks send requests to the backends; requests
// that arrive while a check runs share its report, as for
// [HealthHandler]). It answers only requests whose Host is loopback, its
// listening address or one given with [AllowHosts]. The page shows no
// secret and no token: only
// names, states, counts and the redacted texts of this library's errors.
// It is read-only unless [AllowRenew] is given. Every response forbids
// caching, framing, sniffing and any script, image or resource other than
// its own inline style (Content-Security-Policy default-src 'none').
func StatusHandler(reg *Registry, opts ...StatusOption) http.Handler {
	h := &statusHandler{reg: reg, now: reg.now(), csrf: newCSRFToken(), checks: checks{reg: reg}}
	for _, o := range opts {
		o(h)
	}
	return h
}

type statusHandler struct {
	reg    *Registry
	now    func() time.Time
	renew  bool
	hosts  []string                  // allowed besides loopback and the listening address
	checks checks                    // the runs of ?check=1, shared
	csrf   string                    // the anti-forgery token of the renew forms
	last   atomic.Pointer[renewNote] // the last renewal asked for
}

var (
	//go:embed statuspage.html
	pageHTML string
	//go:embed statuspage.css
	pageCSS string

	pageTemplate = template.Must(template.New("status").Funcs(pageFuncs).Parse(pageHTML))
	// pageCSP allows the page's one inline style, by its hash, and nothing
	// else: no script, image, font, frame or connection.
	pageCSP = "default-src 'none'; style-src '" + styleHash() + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

func styleHash() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// newCSRFToken returns 128 random bits as text.
func newCSRFToken() string { return rand.Text() }

func (h *statusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w.Header())
	if !h.hostAllowed(r) {
		http.Error(w, "forbidden: the status page does not answer to this host name (see backends.AllowHosts)", http.StatusForbidden)
		return
	}
	switch {
	case r.Method == http.MethodPost && h.renew:
		h.serveRenew(w, r)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		h.serveStatus(w, r)
	default:
		allow := "GET, HEAD"
		if h.renew {
			allow += ", POST"
		}
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// serveStatus writes the page, or the JSON view.
func (h *statusHandler) serveStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var check *CheckReport
	if q.Get("check") != "" {
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			http.Error(w, "forbidden: checks run from the status page itself, not from another site", http.StatusForbidden)
			return
		}
		rep, ok := h.checks.check(r.Context())
		if !ok {
			http.Error(w, "check abandoned: "+r.Context().Err().Error(), http.StatusServiceUnavailable)
			return
		}
		check = &rep
	}
	var body bytes.Buffer
	if q.Get("format") == "json" {
		if err := json.NewEncoder(&body).Encode(h.jsonView(check)); err != nil {
			http.Error(w, "encoding the status failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
	} else {
		if err := pageTemplate.Execute(&body, h.page(check, q.Get("renewed"))); err != nil {
			http.Error(w, "rendering the status page failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	if r.Method == http.MethodGet {
		_, _ = w.Write(body.Bytes())
	}
}

// pageHeaders are the security headers of every response of the page.
func pageHeaders(h http.Header) {
	noStore(h)
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// hostAllowed reports whether r names, in its Host header, a loopback
// name, the address the server received it on, or a host of AllowHosts.
func (h *statusHandler) hostAllowed(r *http.Request) bool {
	host := strings.ToLower(r.Host)
	name := host
	if n, _, err := net.SplitHostPort(host); err == nil {
		name = n
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	switch {
	case name == "localhost" || strings.HasSuffix(name, ".localhost"):
		return true
	case net.ParseIP(name) != nil && net.ParseIP(name).IsLoopback():
		return true
	case slices.Contains(h.hosts, host) || slices.Contains(h.hosts, name):
		return true
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ip, _, err := net.SplitHostPort(la.String()); err == nil && net.ParseIP(ip) != nil && net.ParseIP(ip).Equal(net.ParseIP(name)) {
			return true
		}
	}
	return false
}
