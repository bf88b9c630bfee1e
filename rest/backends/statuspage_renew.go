package backends

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// renewTimeout bounds one renewal asked for on the page.
const renewTimeout = 30 * time.Second

// renewNote is the outcome of a renewal, for the page.
type renewNote struct {
	Definition string    `json:"definition"`
	At         time.Time `json:"at"`
	Renewed    bool      `json:"renewed"`         // a new token was obtained
	Kept       string    `json:"kept,omitempty"`  // why the token was kept, when it was
	Error      string    `json:"error,omitempty"` // why no token could be had (redacted)
}

// serveRenew handles the renew form's POST: same origin, anti-forgery
// token, a known OAuth definition; then it renews and redirects back to
// the page (303, to a relative query: the page's own path).
func (h *statusHandler) serveRenew(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "forbidden: the renew action takes a request from the status page itself (same origin)", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(h.csrf)) != 1 {
		http.Error(w, "forbidden: the form's anti-forgery token is missing or stale; reload the status page", http.StatusForbidden)
		return
	}
	name := r.PostForm.Get("definition")
	src, err := h.reg.source(name)
	if err != nil {
		http.Error(w, "no such OAuth definition", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), renewTimeout)
	defer cancel()
	note := h.renewSource(ctx, name, src)
	h.last.Store(&note)
	if l := h.reg.set.Logger; l != nil {
		l.LogAttrs(ctx, slog.LevelInfo, "status page: token renewal asked for", slog.String("definition", name),
			slog.Bool("renewed", note.Renewed), slog.String("kept", note.Kept), slog.String("error", note.Error))
	}
	w.Header().Set("Location", "?renewed="+url.QueryEscape(name))
	w.WriteHeader(http.StatusSeeOther)
}

// renewSource drops src's current token, if it holds a valid one, and
// gets a new one. A source backing off keeps its token: dropping a token
// that still works while the authorization server fails would stop the
// connections.
func (h *statusHandler) renewSource(ctx context.Context, name string, src *oauthclient.Source) renewNote {
	note := renewNote{Definition: name, At: h.now()}
	var old *oauthclient.Token
	switch st := src.Status(); st.State {
	case oauthclient.TokenBackingOff:
		note.Kept = "the definition is backing off after failed token requests (until " + st.BackoffUntil.UTC().Format(time.RFC3339) + ")"
		return note
	case oauthclient.TokenFresh, oauthclient.TokenStale:
		if tok, err := src.TokenContext(ctx); err == nil {
			old = tok
			src.Invalidate(tok)
		}
	}
	tok, err := src.TokenContext(ctx)
	switch {
	case err != nil:
		note.Error = h.reg.errText(err)
	case old != nil && tok == old:
		note.Kept = "a token was dropped moments ago (at most one per MinBackoff)"
	default:
		note.Renewed = true
	}
	return note
}

// source returns the token source of the OAuth definition name.
func (r *Registry) source(name string) (*oauthclient.Source, error) {
	if r.security == nil {
		return nil, oauthclient.ErrUnknownDefinition
	}
	return r.security.Source(name)
}

// sameOrigin reports whether a browser says r comes from a page of the
// origin it is sent to: Sec-Fetch-Site same-origin, or else an Origin
// header naming the request's own host. A request with neither (not from
// a browser, or from a very old one) is not taken as same-origin.
func sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Host == r.Host &&
		u.Path == "" && u.User == nil
}
