package fhirtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHistoryRefusesBadInstants(t *testing.T) {
	srv := seeded(t)
	for _, q := range []string{"_since=yesterday", "_at=2024-13"} {
		resp, body := send(t, srv, "GET", "Patient/a/_history?"+q, "", nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		assert.Contains(t, body, "must be", q)
	}
}
