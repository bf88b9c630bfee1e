package backends

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func TestStatusPageShowsTheAssembly(t *testing.T) {
	a := newAssembly(t)
	require.True(t, a.reg.Check(context.Background()).OK)
	a.clk.Advance(10 * time.Minute)
	w := get(t, StatusHandler(a.reg), "/debug/tokenwire/")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	page := w.Body.String()
	for _, want := range []string{
		"<td>crm-oauth</td>", "<td>billing-key</td>", "<td>legacy-basic</td>", "<td>hook-bearer</td>",
		`<span class="good">fresh</span>`, "in 50m0s", "10m0s ago", // expiry and last fetch, on the registry's clock
		"<td>crm</td>\n<td>rest</td>", "<td>ehr</td>\n<td>fhir</td>",
		a.urls["CRM_URL"] + "/api", a.urls["BILLING_URL"] + "/v1?key=[redacted]",
		"405 Method Not Allowed", // legacy answers HEAD so, and the ping counted it reachable
		"<td>memory</td>",
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "Renew now", "read-only by default")
	assert.NotContains(t, page, `name="csrf"`)
}

func TestStatusPageHeaders(t *testing.T) {
	a := newAssembly(t)
	h := StatusHandler(a.reg)
	for _, target := range []string{"/", "/?format=json", "/?check=1"} {
		w := get(t, h, target)
		require.Equal(t, http.StatusOK, w.Code, target)
		hd := w.Header()
		assert.Equal(t, "no-store", hd.Get("Cache-Control"), target)
		assert.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"), target)
		assert.Equal(t, "DENY", hd.Get("X-Frame-Options"), target)
		assert.Equal(t, "no-referrer", hd.Get("Referrer-Policy"), target)
		csp := hd.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", target)
		assert.Contains(t, csp, "frame-ancestors 'none'", target)
		assert.Contains(t, csp, "form-action 'self'", target)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		w := do(t, h, method, "/", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, method)
		assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
		assert.NotEmpty(t, w.Header().Get("Content-Security-Policy"), "on errors too")
	}
	cross := do(t, h, http.MethodGet, "/?check=1", nil, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, cross.Code, "another site cannot make the page send checks")
	head := do(t, h, http.MethodHead, "/", nil)
	assert.Equal(t, http.StatusOK, head.Code)
	assert.Empty(t, head.Body.String())
}

var styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

func TestStatusPageCSPAllowsOnlyItsOwnStyle(t *testing.T) {
	a := newAssembly(t)
	w := get(t, StatusHandler(a.reg, AllowRenew()), "/?check=1")
	page := w.Body.String()
	styles := styleRE.FindAllStringSubmatch(page, -1)
	require.Len(t, styles, 1)
	sum := sha256.Sum256([]byte(styles[0][1]))
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'",
		"the hash in the policy is the inline style's")
	assert.NotRegexp(t, ` on[a-z]+=`, page, "no event handler")
	for _, banned := range []string{"<script", " style=", "<img", "<iframe", "<link", " src=", `href="http`, "@import", "url("} {
		assert.NotContains(t, page, banned, "no script, no inline style attribute, no external asset")
	}
}

func TestStatusPageJSON(t *testing.T) {
	a := newAssembly(t)
	h := StatusHandler(a.reg)
	w := get(t, h, "/?format=json")
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var v struct {
		At          time.Time `json:"at"`
		Security    []SecurityStatus
		Connections []struct {
			Name, Kind string
			BaseURL    string `json:"base_url"`
		}
		Store *struct{ Kind string }
		Check *CheckReport
		Renew bool `json:"renew_allowed"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, a.clk.Now(), v.At)
	assert.Len(t, v.Security, 4)
	kinds := map[string]string{}
	for _, c := range v.Connections {
		kinds[c.Name] = c.Kind
	}
	assert.Equal(t, map[string]string{"billing": "rest", "crm": "rest", "ehr": "fhir", "hook": "rest", "legacy": "rest"}, kinds)
	assert.Equal(t, "memory", v.Store.Kind)
	assert.Nil(t, v.Check, "no check unless asked")
	assert.False(t, v.Renew)

	w = get(t, h, "/?format=json&check=1")
	v.Check = nil
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	require.NotNil(t, v.Check)
	assert.True(t, v.Check.OK)
	assert.Len(t, v.Check.Connections, 5)
}

func TestStatusPageShowsNoSecret(t *testing.T) {
	a := newAssembly(t, WithTokenOptions(oauthclient.Options{MaxBackoffWait: -1})) // fail at once while backing off
	require.True(t, a.reg.Check(context.Background()).OK)                          // tokens issued and sent
	// Then everything fails, echoing what it was sent.
	a.as.FailNext(5, oauthtest.OAuthError(http.StatusBadRequest, "invalid_client", "secret "+fixClientSecret+" refused"))
	a.as.RevokeAll()
	a.fhirStatus, a.fhirBody = http.StatusInternalServerError, `{"resourceType":"OperationOutcome","issue":[{"diagnostics":"`+fixAPIKey+`"}]}`
	h := StatusHandler(a.reg, AllowRenew())
	_ = a.reg.Check(context.Background())
	do(t, h, http.MethodPost, "/", strings.NewReader("definition=crm-oauth&csrf="+h.(*statusHandler).csrf),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin")
	secrets := a.secrets()
	require.Greater(t, len(secrets), 4, "the tokens issued are checked too")
	for _, target := range []string{"/", "/?check=1", "/?renewed=crm-oauth", "/?format=json", "/?format=json&check=1"} {
		w := get(t, h, target)
		require.Equal(t, http.StatusOK, w.Code)
		noSecretIn(t, target, w.Body.String(), secrets)
	}
	sh := h.(*statusHandler)
	rep := a.reg.Check(context.Background())
	rendertest.NoSecret(t, "status JSON view", sh.jsonView(&rep), secrets...)
	rendertest.NoSecret(t, "Registry.Status", a.reg.Status(), secrets...)
}
