package main

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatusPageInABrowser loads the example's status page in headless
// Chromium: it renders, shows the example's connections, holds no secret;
// "Renew now" renews the CRM token (one token request), and a form on
// another origin that posts to it, even with the page's own anti-forgery
// token, is refused. TOKENWIRE_SCREENSHOT=path saves a PNG of the page.
func TestStatusPageInABrowser(t *testing.T) {
	chromium, driver := findBrowser(t)
	d, err := startDemo(context.Background())
	require.NoError(t, err)
	t.Cleanup(d.Close)
	_, err = d.sz.Batch(context.Background(), demoIDs) // tokens fetched, calls counted
	require.NoError(t, err)

	posts := &postLog{}
	svc := httptest.NewServer(posts.wrap(handler(d.reg, d.sz))) // 127.0.0.1
	t.Cleanup(svc.Close)
	status := svc.URL + "/debug/tokenwire/"
	wd := startBrowser(t, chromium, driver)

	wd.open(status)
	wd.find("table#connections")
	page := wd.source()
	for _, want := range []string{"<td>crm</td>", "<td>billing</td>", "<td>ehr</td>", "<td>fhir</td>",
		"<td>crm-oauth</td>", "<td>billing-key</td>", "<td>ehr-smart</td>", d.fakes.crm.URL + "/api"} {
		assert.Contains(t, page, want)
	}
	noSecrets(t, "status page", page, d)

	before := d.fakes.auth.Requests(clientID)
	wd.click(`button.renew[data-definition="crm-oauth"]`)
	assert.Contains(t, wd.text("#renew-notice"), "Renewed crm-oauth: a new token was obtained.")
	assert.Equal(t, before+1, d.fakes.auth.Requests(clientID), "one token request for one click")
	assert.Equal(t, []int{http.StatusSeeOther}, posts.statuses())
	assert.True(t, strings.HasSuffix(wd.url(), "/debug/tokenwire/?renewed=crm-oauth"), wd.url())

	wd.click("#run-checks")
	assert.Contains(t, wd.text("#check-result"), "Check passed")
	noSecrets(t, "status page with checks", wd.source(), d)
	if path := os.Getenv("TOKENWIRE_SCREENSHOT"); path != "" {
		require.NoError(t, os.WriteFile(path, wd.screenshot(), 0o644))
	}

	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(wd.source())
	require.Len(t, csrf, 2, "the page carries its anti-forgery token")
	evil := httptest.NewServer(forgedForm(status, csrf[1])) // another port: another origin
	t.Cleanup(evil.Close)
	before = d.fakes.auth.Requests(clientID)
	wd.open(evil.URL)
	assert.Contains(t, wd.text("pre"), "forbidden", "the browser lands on the refusal")
	assert.Equal(t, []int{http.StatusSeeOther, http.StatusForbidden}, posts.statuses())
	assert.Equal(t, before, d.fakes.auth.Requests(clientID), "no renewal")
}

// forgedForm is a page that posts the renew form to target as soon as it
// loads, as a hostile site would.
func forgedForm(target, csrf string) http.Handler {
	page := template.Must(template.New("").Parse(`<!DOCTYPE html><html><body onload="document.forms[0].submit()">
<form method="post" action="{{.Target}}"><input type="hidden" name="definition" value="crm-oauth"><input type="hidden" name="csrf" value="{{.CSRF}}"></form>
</body></html>`))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, map[string]string{"Target": target, "CSRF": csrf})
	})
}

// postLog records the statuses of the POSTs a handler answered.
type postLog struct {
	mu   sync.Mutex
	seen []int
}

func (p *postLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if r.Method == http.MethodPost {
			p.mu.Lock()
			p.seen = append(p.seen, sw.status)
			p.mu.Unlock()
		}
	})
}

func (p *postLog) statuses() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.seen...)
}

// noSecrets fails t if page shows a secret of the example or a token the
// CRM was sent.
func noSecrets(t *testing.T, what, page string, d *demoEnv) {
	t.Helper()
	secrets := append([]string{clientSecret, billingAPIKey}, d.fakes.auth.SeenTokens()...)
	for _, line := range strings.Split(d.fakes.ehr.keyPEM, "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line) // every line of the EHR's private key
		}
	}
	require.Greater(t, len(secrets), 3)
	for _, s := range secrets {
		if strings.Contains(page, s) {
			t.Errorf("%s shows a secret (%.8s…)", what, s)
		}
	}
}
