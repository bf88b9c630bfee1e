package backends

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// readinessFixture is a registry of three connections, one per readiness
// mode, each with its own definition on one authorization server.
type readinessFixture struct {
	as                 *oauthtest.Server
	reg                *Registry
	crmUp, erpUp       atomic.Bool // whether the backend answers 200
	crmHits, auditHits atomic.Int32
}

const readinessConfig = `
security:
  crm-oauth: {type: oauth2, token_url: "${TOKEN_URL}", client_id: crm, client_secret: "${SECRET}"}
  erp-oauth: {type: oauth2, token_url: "${TOKEN_URL}", client_id: erp, client_secret: "${SECRET}"}
  audit-oauth: {type: oauth2, token_url: "${TOKEN_URL}", client_id: audit, client_secret: "${SECRET}"}
rest:
  crm:            # required (the default)
    base_url: ${CRM_URL}
    security: crm-oauth
    retry: {max_attempts: 1}
  erp:
    base_url: ${ERP_URL}
    security: erp-oauth
    readiness: optional
    retry: {max_attempts: 1}
  audit:
    base_url: ${AUDIT_URL}
    security: audit-oauth
    readiness: token_only
    retry: {max_attempts: 1}
`

func newReadinessFixture(t *testing.T) *readinessFixture {
	t.Helper()
	f := &readinessFixture{as: oauthtest.NewServer()}
	t.Cleanup(f.as.Close)
	for _, id := range []string{"crm", "erp", "audit"} {
		f.as.AddClient(oauthtest.Client{ID: id, Secret: "s3cret-readiness"})
	}
	backend := func(up *atomic.Bool, hits *atomic.Int32) string {
		return newServer(t, func(w http.ResponseWriter, r *http.Request) {
			if hits != nil {
				hits.Add(1)
			}
			if up == nil || !up.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
			}
		}).URL
	}
	f.crmUp.Store(true)
	f.erpUp.Store(true)
	vars := map[string]string{"TOKEN_URL": f.as.TokenURL(), "SECRET": "s3cret-readiness",
		"CRM_URL": backend(&f.crmUp, &f.crmHits), "ERP_URL": backend(&f.erpUp, nil), "AUDIT_URL": backend(nil, &f.auditHits)}
	cfg, err := Parse([]byte(readinessConfig), env(vars), rest.AllowInsecureHTTP())
	require.NoError(t, err)
	f.reg, err = Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.reg.Close() })
	return f
}

func byName(rep CheckReport) map[string]CheckResult {
	m := map[string]CheckResult{}
	for _, r := range append(rep.Tokens, rep.Connections...) {
		m[r.Kind+"/"+r.Name] = r
	}
	return m
}

func TestReadinessModesAllUp(t *testing.T) {
	f := newReadinessFixture(t)
	rep := f.reg.Check(context.Background())
	require.True(t, rep.OK, "%+v", rep)
	res := byName(rep)
	assert.Equal(t, "required", res["rest/crm"].Readiness)
	assert.Equal(t, "optional", res["rest/erp"].Readiness)
	assert.Equal(t, "token_only", res["rest/audit"].Readiness)
	assert.Equal(t, "optional", res["oauth2/erp-oauth"].Readiness, "only an optional connection uses it")
	assert.Equal(t, "required", res["oauth2/audit-oauth"].Readiness)
	assert.Equal(t, int32(0), f.auditHits.Load(), "a token_only connection is never pinged (its backend answers 503)")
	assert.Equal(t, int32(1), f.crmHits.Load(), "a required connection is pinged")
}

func TestReadinessOptionalFailureKeepsReady(t *testing.T) {
	f := newReadinessFixture(t)
	f.erpUp.Store(false)
	rep := f.reg.Check(context.Background())
	assert.True(t, rep.OK, "an optional backend down does not make the service unready")
	erp := byName(rep)["rest/erp"]
	assert.False(t, erp.OK, "but it is reported")
	assert.Contains(t, erp.Error, "503")

	rec := httptest.NewRecorder()
	HealthHandler(f.reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	var body struct {
		OK          bool `json:"ok"`
		Connections []struct {
			Name, Readiness string
			OK              bool
		} `json:"connections"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.True(t, body.OK)
	assert.Contains(t, body.Connections, struct {
		Name, Readiness string
		OK              bool
	}{"erp", "optional", false})
}

func TestReadinessRequiredFailureMakesUnready(t *testing.T) {
	f := newReadinessFixture(t)
	f.crmUp.Store(false)
	rep := f.reg.Check(context.Background())
	assert.False(t, rep.OK)
	rec := httptest.NewRecorder()
	HealthHandler(f.reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

func TestReadinessTokenOnlyCountsTheToken(t *testing.T) {
	f := newReadinessFixture(t)
	// Every token request fails: the token_only connection is unready by
	// its token, the optional connection's definition does not count.
	f.as.FailNext(100, oauthtest.OAuthError(http.StatusUnauthorized, "invalid_client", "no"))
	rep := f.reg.Check(context.Background())
	assert.False(t, rep.OK)
	res := byName(rep)
	assert.False(t, res["rest/audit"].OK)
	assert.Regexp(t, `^security definition "audit-oauth": `, res["rest/audit"].Error)
	assert.NotContains(t, res["rest/audit"].Error, `token of`, "the definition is named once, by oauthclient")
	assert.False(t, res["oauth2/erp-oauth"].OK)
	assert.Equal(t, "optional", res["oauth2/erp-oauth"].Readiness)
	assert.Equal(t, int32(0), f.auditHits.Load())
	for _, r := range rep.Tokens {
		assert.NotContains(t, r.Error, "s3cret-readiness")
	}
}

func TestReadinessOnlyOptionalFailuresStayReady(t *testing.T) {
	f := newReadinessFixture(t)
	// The optional connection's backend is down and so is its token (a
	// client the server no longer knows): still ready.
	f.erpUp.Store(false)
	f.as.AddClient(oauthtest.Client{ID: "erp", Secret: "another"})
	rep := f.reg.Check(context.Background())
	assert.True(t, rep.OK, "%+v", rep)
	assert.False(t, byName(rep)["oauth2/erp-oauth"].OK)
}

func TestReadinessConfigProblems(t *testing.T) {
	_, err := Parse([]byte(`
security:
  key: {type: apikey, name: X-Key, value: k}
rest:
  a: {base_url: "https://a.example.com", readiness: maybe}
  b: {base_url: "https://b.example.com", security: key, readiness: token_only}
  c: {base_url: "https://c.example.com", readiness: token_only}
`))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `rest "a": readiness: "maybe" is not a readiness (want required, optional or token_only)`)
	assert.Contains(t, msg, `rest "b": readiness: token_only needs a definition that gets tokens`)
	assert.Contains(t, msg, `rest "c": readiness: token_only needs a security definition`)
	assert.Contains(t, msg, `or token_only) (line 5)`, "the line of the readiness key")
	assert.Contains(t, msg, `"key" is apikey (line 6)`)
}

func TestReadinessOnStatusPage(t *testing.T) {
	f := newReadinessFixture(t)
	f.erpUp.Store(false)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/?check=1", nil)
	StatusHandler(f.reg).ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	page := rec.Body.String()
	assert.Contains(t, page, `Check <span class="good">passed</span>`, "an optional failure does not fail the check")
	assert.Regexp(t, `<td>ping</td><td>erp</td><td>rest</td><td>optional</td><td><span class="bad">failed</span>`, page)
	assert.Regexp(t, `<td>token</td><td>audit</td><td>rest</td><td>token_only</td><td><span class="good">ok</span>`, page)
}
