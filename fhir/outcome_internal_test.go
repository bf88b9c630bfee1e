package fhir

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hugeOutcome is an OperationOutcome of about size bytes, and its number
// of issues.
func hugeOutcome(size int) (string, int) {
	var b strings.Builder
	b.WriteString(`{"issue":[`)
	n := 0
	for b.Len() < size {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"severity":"error","code":"invalid","diagnostics":"issue %d","expression":["x"]}`, n)
		n++
	}
	b.WriteString(`],"resourceType":"OperationOutcome"}`)
	return b.String(), n
}

// A huge OperationOutcome keeps a bounded number of issues and counts the
// others, without decoding them into anything that is kept.
func TestParseIssuesKeepsTheFirstAndCountsTheRest(t *testing.T) {
	// An error body is read up to 1 MiB; four times that shows the cost
	// does not grow with the issues beyond the first.
	body, n := hugeOutcome(4 << 20)
	require.Greater(t, n, 40_000)

	b := []byte(body)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	issues, more := parseIssues(b, maxIssues)
	runtime.ReadMemStats(&after)

	require.Len(t, issues, maxIssues)
	assert.Equal(t, "issue 0", issues[0].Diagnostics)
	assert.Equal(t, "issue 19", issues[19].Diagnostics)
	assert.Equal(t, n-maxIssues, more)
	// Decoding every issue allocated about five times the body (a 16 MiB
	// outcome kept 79 MB); counting them allocates next to nothing.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated")

	small, n := hugeOutcome(64 << 10)
	all, more := parseIssues([]byte(small), -1)
	assert.Len(t, all, n, "all of them when asked (export error files)")
	assert.Zero(t, more)
}

// An outcome cut short by a bounded read still gives the issues before
// the cut; what is not an OperationOutcome gives none.
func TestParseIssuesEdges(t *testing.T) {
	body, _ := hugeOutcome(10 << 10)
	for name, tc := range map[string]struct {
		body   string
		issues int
	}{
		"cut short, type first": {`{"resourceType":"OperationOutcome","issue":[{"code":"a"},{"code":"b"},{"co`, 2},
		"cut short, type last":  {body[:5000], 0},
		"no issues":             {`{"resourceType":"OperationOutcome"}`, 0},
		"null issues":           {`{"resourceType":"OperationOutcome","issue":null}`, 0},
		"not an outcome":        {`{"resourceType":"Patient","issue":[{"code":"a"}]}`, 0},
		"issue not an array":    {`{"resourceType":"OperationOutcome","issue":{"code":"a"}}`, 0},
		"not JSON":              {`<html>busy</html>`, 0},
		"details and location":  {`{"resourceType":"OperationOutcome","issue":[{"code":"a","details":{"text":"d"},"location":["l"]}]}`, 1},
	} {
		t.Run(name, func(t *testing.T) {
			issues, more := parseIssues([]byte(tc.body), maxIssues)
			assert.Len(t, issues, tc.issues)
			assert.Zero(t, more)
		})
	}
	issues, _ := parseIssues([]byte(`{"resourceType":"OperationOutcome","issue":[{"code":"a","details":{"text":"d"},"location":["l"]}]}`), 1)
	assert.Equal(t, []Issue{{Code: "a", Diagnostics: "d", Expression: []string{"l"}, Location: []string{"l"}}}, issues)
}
