package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/refusing"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	text := out.String()
	t.Log("\n" + text)

	acts := strings.Split(text, "\n\n")
	require.Len(t, acts, 4, "banner and three acts")
	assert.Contains(t, acts[1], "C001  Ada Lovelace")
	assert.Contains(t, acts[1], "C008  Ken Thompson")
	assert.Contains(t, acts[1], "EHR Patient/p-1001 Ada Lovelace, born 1815-12-10; latest: systolic BP 115 mm[Hg] (2026-03-01), heart rate 62 /min (2026-02-01)")
	assert.Contains(t, acts[1], "EHR Patient/p-1007 Margaret Hamilton, born 1936-08-17")
	assert.Contains(t, acts[1], "C008  Ken Thompson       orders: 0 (€0.00)  open invoices: 0 (€0.00)\n         EHR: no patient record")
	assert.Contains(t, acts[1], "backend calls: CRM and billing 24, EHR 15 (+1 SMART discovery)")
	assert.True(t, strings.HasSuffix(acts[1], "token requests: crm-oauth 1, ehr-smart 1"), "one token per definition for the whole batch")
	assert.Contains(t, acts[2], "EHR Patient/p-1002 Alan Turing")
	assert.Contains(t, acts[2], "token requests: crm-oauth 2, ehr-smart 2 (each renewed once)")
	assert.Contains(t, acts[3], "C003  Grace Hopper")
	assert.Contains(t, acts[3], "EHR Patient/p-1003 Grace Hopper")
	m := regexp.MustCompile(`CRM 401 responses: (\d+); token requests: crm-oauth 3, ehr-smart 2 `).FindStringSubmatch(acts[3])
	require.NotNil(t, m, "a 401 recovery with one more CRM token, none for the EHR: %s", acts[3])
	n, _ := strconv.Atoi(m[1])
	assert.GreaterOrEqual(t, n, 1)
	for _, secret := range []string{clientSecret, billingAPIKey, "PRIVATE KEY"} {
		assert.NotContains(t, text, secret)
	}
}

// Without a fhir section (-config with REST backends only), summaries
// have no EHR part.
func TestSummarizerWithoutEHR(t *testing.T) {
	d, err := startDemo(context.Background())
	require.NoError(t, err)
	t.Cleanup(d.Close)
	cfg, err := backends.Parse(defaultConfig, backends.WithLookupEnv(d.fakes.env), rest.AllowInsecureHTTP())
	require.NoError(t, err)
	cfg.FHIR = nil // as if the file had no fhir section
	delete(cfg.Security, "ehr-smart")
	_, err = d.reg.Reload(context.Background(), cfg)
	require.NoError(t, err)
	sz, err := NewSummarizer(d.reg)
	require.NoError(t, err)
	s, err := sz.Summary(context.Background(), "C001")
	require.NoError(t, err)
	assert.Nil(t, s.Patient)
	assert.Equal(t, "C001  Ada Lovelace       orders: 1 (€19.99)  open invoices: 1 (€250.00)", s.String())
	assert.Zero(t, d.fakes.ehr.fhir.Requests())
}

func TestServeHandler(t *testing.T) {
	d, err := startDemo(context.Background())
	require.NoError(t, err)
	t.Cleanup(d.Close)
	srv := httptest.NewServer(handler(d.reg, d.sz))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/customers/C007/summary")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s Summary
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	assert.Equal(t, "Margaret Hamilton", s.Name)
	assert.Len(t, s.Orders, 3)
	assert.Len(t, s.OpenInvoices, 1)
	require.NotNil(t, s.Patient)
	assert.Equal(t, "Patient/p-1007", s.Patient.ID)
	assert.Equal(t, "1936-08-17", s.Patient.BirthDate)
	require.Len(t, s.Patient.Latest, 2)
	assert.Equal(t, Measurement{What: "systolic BP", Value: "118", Unit: "mm[Hg]", Date: "2026-03-07"}, s.Patient.Latest[0])

	resp, err = http.Get(srv.URL + "/customers/C999/summary")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestRunWithConfigFile(t *testing.T) {
	err := run(context.Background(), []string{"-config", "does-not-exist.yaml"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "does-not-exist.yaml")
	err = run(context.Background(), []string{"-bogus"}, &bytes.Buffer{})
	assert.Error(t, err)
}

func TestServeReadinessAndStatusPage(t *testing.T) {
	d, err := startDemo(context.Background())
	require.NoError(t, err)
	t.Cleanup(d.Close)
	srv := httptest.NewServer(handler(d.reg, d.sz))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	var rep backends.CheckReport
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, rep.OK, "%+v", rep)
	assert.Len(t, rep.Tokens, 2)
	assert.Len(t, rep.Connections, 3)

	resp, err = http.Get(srv.URL + "/debug/tokenwire") // redirected to the page
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	for _, name := range []string{"crm", "billing", "ehr"} {
		assert.Contains(t, string(page), "<td>"+name+"</td>")
	}
	assert.Contains(t, string(page), "Renew now")

	// The CRM goes away: its address now refuses. (Closing the fake CRM
	// would free its port for the next listener, in this process or
	// another, which could answer the ping.)
	crmGone := func(name string) (string, bool) {
		if name == "CRM_URL" {
			return refusing.URL(t), true
		}
		return d.fakes.env(name)
	}
	cfg, err := backends.Parse(defaultConfig, backends.WithLookupEnv(crmGone), rest.AllowInsecureHTTP(), rest.WithClock(d.clk.Now))
	require.NoError(t, err)
	_, err = d.reg.Reload(context.Background(), cfg)
	require.NoError(t, err)
	resp, err = http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	rep = backends.CheckReport{}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.False(t, rep.OK)
	for _, c := range rep.Connections {
		assert.Equal(t, c.Name != "crm", c.OK, "only the CRM fails: %+v", c)
	}
}
