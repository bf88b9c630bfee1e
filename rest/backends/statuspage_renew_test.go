package backends

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// renewForm is the body of a renew POST.
func renewForm(definition, csrf string) *strings.Reader {
	return strings.NewReader(url.Values{"definition": {definition}, "csrf": {csrf}}.Encode())
}

const formType = "application/x-www-form-urlencoded"

func TestRenewProtection(t *testing.T) {
	tests := []struct {
		name     string
		header   []string
		csrf     string // "ok": the handler's token
		def      string
		want     int
		renewals int // token requests made
	}{
		{"same origin by Sec-Fetch-Site", []string{"Sec-Fetch-Site", "same-origin"}, "ok", "crm-oauth", http.StatusSeeOther, 1},
		{"same origin by Origin", []string{"Origin", "http://localhost:8080"}, "ok", "crm-oauth", http.StatusSeeOther, 1},
		{"cross-site", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://localhost:8080"}, "ok", "crm-oauth", http.StatusForbidden, 0},
		{"same-site, other port", []string{"Sec-Fetch-Site", "same-site"}, "ok", "crm-oauth", http.StatusForbidden, 0},
		{"user typed it", []string{"Sec-Fetch-Site", "none"}, "ok", "crm-oauth", http.StatusForbidden, 0},
		{"other origin", []string{"Origin", "http://evil.example"}, "ok", "crm-oauth", http.StatusForbidden, 0},
		{"other port", []string{"Origin", "http://localhost:8081"}, "ok", "crm-oauth", http.StatusForbidden, 0},
		{"opaque origin", []string{"Origin", "null"}, "ok", "crm-oauth", http.StatusForbidden, 0},
		{"no browser headers", nil, "ok", "crm-oauth", http.StatusForbidden, 0},
		{"no token", []string{"Sec-Fetch-Site", "same-origin"}, "", "crm-oauth", http.StatusForbidden, 0},
		{"wrong token", []string{"Sec-Fetch-Site", "same-origin"}, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "crm-oauth", http.StatusForbidden, 0},
		{"unknown definition", []string{"Sec-Fetch-Site", "same-origin"}, "ok", "nope", http.StatusNotFound, 0},
		{"not an OAuth definition", []string{"Sec-Fetch-Site", "same-origin"}, "ok", "billing-key", http.StatusNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAssembly(t)
			require.True(t, a.reg.Check(context.Background()).OK) // a token is held
			before := a.as.Requests("svc")
			h := StatusHandler(a.reg, AllowRenew())
			csrf := tt.csrf
			if csrf == "ok" {
				csrf = h.(*statusHandler).csrf
			}
			w := do(t, h, http.MethodPost, "http://localhost:8080/debug/tokenwire/", renewForm(tt.def, csrf),
				append([]string{"Content-Type", formType}, tt.header...)...)
			assert.Equal(t, tt.want, w.Code, w.Body.String())
			assert.Equal(t, tt.renewals, a.as.Requests("svc")-before)
			assert.NotEmpty(t, w.Header().Get("Content-Security-Policy"))
			if tt.want == http.StatusSeeOther {
				assert.Equal(t, "?renewed=crm-oauth", w.Header().Get("Location"), "back to the page, wherever it is mounted")
			}
		})
	}
}

func TestRenewNotice(t *testing.T) {
	a := newAssembly(t)
	require.True(t, a.reg.Check(context.Background()).OK)
	h := StatusHandler(a.reg, AllowRenew())
	csrf := h.(*statusHandler).csrf
	page := get(t, h, "/").Body.String()
	assert.Contains(t, page, `<input type="hidden" name="csrf" value="`+csrf+`">`, "the page carries the token")
	assert.Contains(t, page, `data-definition="crm-oauth">Renew now</button>`)
	assert.NotContains(t, page, `data-definition="billing-key"`, "static credentials have nothing to renew")

	renew := func() {
		t.Helper()
		w := do(t, h, http.MethodPost, "/", renewForm("crm-oauth", csrf), "Content-Type", formType, "Sec-Fetch-Site", "same-origin")
		require.Equal(t, http.StatusSeeOther, w.Code)
	}
	renew()
	assert.Equal(t, 2, a.as.Requests("svc"))
	assert.Contains(t, get(t, h, "/?renewed=crm-oauth").Body.String(), "Renewed <b>crm-oauth</b>: a new token was obtained.")
	assert.NotContains(t, get(t, h, "/").Body.String(), "renew-notice", "the notice follows the redirect only")

	renew() // at once again: the source drops at most one token per MinBackoff
	assert.Equal(t, 2, a.as.Requests("svc"))
	assert.Contains(t, get(t, h, "/?renewed=crm-oauth").Body.String(), "kept its token: a token was dropped moments ago")

	a.clk.Advance(2 * time.Second)
	renew()
	assert.Equal(t, 3, a.as.Requests("svc"))
	c, err := a.reg.REST("crm")
	require.NoError(t, err)
	assert.NoError(t, c.Ping(context.Background()), "the new token works")
}

func TestRenewWithoutTokenFetchesOne(t *testing.T) {
	a := newAssembly(t)
	h := StatusHandler(a.reg, AllowRenew())
	w := do(t, h, http.MethodPost, "/", renewForm("crm-oauth", h.(*statusHandler).csrf), "Content-Type", formType, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, 1, a.as.Requests("svc"), "one request, not a fetch to drop and another")
}

func TestRenewKeepsTheTokenWhileBackingOff(t *testing.T) {
	a := newAssembly(t, WithTokenOptions(oauthclient.Options{MaxBackoffWait: -1}))
	a.as.FailNext(1, oauthtest.OAuthError(http.StatusServiceUnavailable, "temporarily_unavailable", ""))
	require.False(t, a.reg.Check(context.Background()).OK)
	h := StatusHandler(a.reg, AllowRenew())
	w := do(t, h, http.MethodPost, "/", renewForm("crm-oauth", h.(*statusHandler).csrf), "Content-Type", formType, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, 1, a.as.Requests(""), "no request during the backoff")
	assert.Contains(t, get(t, h, "/?renewed=crm-oauth").Body.String(), "kept its token: the definition is backing off")
}

func TestRenewFormIsBounded(t *testing.T) {
	a := newAssembly(t)
	h := StatusHandler(a.reg, AllowRenew())
	big := strings.NewReader("definition=crm-oauth&x=" + strings.Repeat("a", 8<<10))
	w := do(t, h, http.MethodPost, "/", big, "Content-Type", formType, "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Zero(t, a.as.Requests(""))
}

func TestRenewOffAnswers405(t *testing.T) {
	a := newAssembly(t)
	h := StatusHandler(a.reg)
	w := do(t, h, http.MethodPost, "/", renewForm("crm-oauth", ""), "Content-Type", formType, "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Zero(t, a.as.Requests(""))
	w = do(t, StatusHandler(a.reg, AllowRenew()), http.MethodPut, "/", nil)
	assert.Equal(t, "GET, HEAD, POST", w.Header().Get("Allow"))
}

func TestEachHandlerHasItsOwnToken(t *testing.T) {
	a := newAssembly(t)
	h1, h2 := StatusHandler(a.reg, AllowRenew()), StatusHandler(a.reg, AllowRenew())
	t1, t2 := h1.(*statusHandler).csrf, h2.(*statusHandler).csrf
	assert.NotEqual(t, t1, t2)
	assert.GreaterOrEqual(t, len(t1), 26, "128 random bits")
	w := do(t, h2, http.MethodPost, "/", renewForm("crm-oauth", t1), "Content-Type", formType, "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusForbidden, w.Code)
}
