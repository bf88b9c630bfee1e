package fhir_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

const outcomeJSON = `{"resourceType":"OperationOutcome","issue":[
 {"severity":"error","code":"invalid","diagnostics":"Patient.birthDate: not a date","expression":["Patient.birthDate"]},
 {"severity":"warning","code":"business-rule","details":{"text":"check the name"},"location":["Patient.name[0]"]}]}`

func statusServer(t *testing.T, status int, body string) *fhir.Conn {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", fhir.MediaType)
		w.WriteHeader(status)
		_, _ = fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL+"/fhir", srv.Client())
	require.NoError(t, err)
	return conn
}

func TestErrorSentinels(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{400, fhir.ErrBadRequest}, {401, fhir.ErrUnauthorized}, {403, fhir.ErrForbidden},
		{404, fhir.ErrNotFound}, {409, fhir.ErrConflict}, {410, fhir.ErrGone},
		{412, fhir.ErrPreconditionFailed}, {422, fhir.ErrUnprocessable}, {503, fhir.ErrServer},
	}
	all := []error{fhir.ErrBadRequest, fhir.ErrUnauthorized, fhir.ErrForbidden, fhir.ErrNotFound, fhir.ErrConflict,
		fhir.ErrGone, fhir.ErrPreconditionFailed, fhir.ErrUnprocessable, fhir.ErrServer}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			conn := statusServer(t, tt.status, outcomeJSON)
			_, err := fhir.Read[models.Patient](ctx(t), conn, "1")
			require.Error(t, err)
			for _, s := range all {
				assert.Equal(t, s == tt.want, errors.Is(err, s), "%v", s)
			}
		})
	}
}

func TestErrorOperationOutcome(t *testing.T) {
	conn := statusServer(t, 422, outcomeJSON)
	_, err := fhir.Create(ctx(t), conn, &models.Patient{BirthDate: ptr("x")})
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "ehr", fe.Conn)
	assert.Equal(t, "POST", fe.Method)
	assert.True(t, strings.HasSuffix(fe.URL, "/fhir/Patient"), fe.URL)
	assert.Equal(t, 422, fe.StatusCode)
	require.Len(t, fe.Issues, 2)
	assert.Equal(t, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: "Patient.birthDate: not a date",
		Expression: []string{"Patient.birthDate"}}, fe.Issues[0])
	assert.Equal(t, "check the name", fe.Issues[1].Diagnostics, "details.text when no diagnostics")
	assert.Equal(t, []string{"Patient.name[0]"}, fe.Issues[1].Expression, "location when no expression")
	assert.Contains(t, err.Error(), "422 Unprocessable Entity; error invalid: Patient.birthDate: not a date at Patient.birthDate")
}

func TestErrorNonFHIRBody(t *testing.T) {
	conn := statusServer(t, 502, "<html>Bad Gateway</html>")
	_, err := fhir.Read[models.Patient](ctx(t), conn, "1")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Empty(t, fe.Issues)
	assert.ErrorIs(t, err, fhir.ErrServer)
}

func TestErrorRedactsURL(t *testing.T) {
	conn := statusServer(t, 400, outcomeJSON)
	for _, err := range conn.Pages(ctx(t), "Patient", fhir.Params().Add("family", "Secretname").Add("birthdate", "1970")) {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "Secretname")
		assert.NotContains(t, err.Error(), "1970")
		assert.Contains(t, err.Error(), "birthdate=REDACTED&family=REDACTED")
	}
}

func TestErrorTransport(t *testing.T) {
	conn, err := fhir.New("ehr", "http://127.0.0.1:1/fhir", http.DefaultClient)
	require.NoError(t, err)
	_, err = fhir.Read[models.Patient](ctx(t), conn, "1")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Zero(t, fe.StatusCode)
	assert.NotNil(t, fe.Err)

	for _, err := range conn.Pages(ctx(t), "Patient", fhir.Params().Add("family", "Secretname")) {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "Secretname", "transport errors hide query values too")
	}

	cctx, cancel := context.WithCancel(ctx(t))
	cancel()
	_, err = fhir.Read[models.Patient](cctx, conn, "1")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestBodyBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"resourceType":"Patient","id":"1","text":{"div":"%s"}}`, strings.Repeat("x", 4096))
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client(), fhir.WithMaxBody(1024))
	require.NoError(t, err)
	_, err = fhir.Read[models.Patient](ctx(t), conn, "1")
	assert.ErrorIs(t, err, fhir.ErrBodyTooLarge)
}

func TestNewValidates(t *testing.T) {
	tests := []struct{ name, base string }{
		{"relative", "/fhir"}, {"ftp", "ftp://h/fhir"}, {"userinfo", "https://u:p@h/fhir"}, {"query", "https://h/fhir?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fhir.New("ehr", tt.base, http.DefaultClient)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `connection "ehr"`)
			assert.NotContains(t, err.Error(), "u:p")
		})
	}
	_, err := fhir.New("ehr", "https://h/fhir", nil)
	assert.ErrorContains(t, err, "nil Doer")
}
