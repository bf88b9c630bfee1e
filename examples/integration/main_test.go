package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.True(t, strings.HasSuffix(acts[1], "backend calls: 24, token requests: 1"), "one token for the whole batch")
	assert.Contains(t, acts[2], "token requests: 2 (renewed once)")
	assert.Contains(t, acts[3], "C003  Grace Hopper")
	m := regexp.MustCompile(`CRM 401 responses: (\d+), token requests: 3 `).FindStringSubmatch(acts[3])
	require.NotNil(t, m, "a 401 recovery with one more token: %s", acts[3])
	n, _ := strconv.Atoi(m[1])
	assert.GreaterOrEqual(t, n, 1)
	assert.NotContains(t, text, clientSecret)
	assert.NotContains(t, text, billingAPIKey)
}

func TestServeHandler(t *testing.T) {
	d, err := startDemo(context.Background())
	require.NoError(t, err)
	t.Cleanup(d.Close)
	srv := httptest.NewServer(handler(d.sz))
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
