package fhir_test

import (
	"bytes"
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
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/internal/refusing"
	"github.com/tokenwire/tokenwire/rest"
)

const outcomeJSON = `{"resourceType":"OperationOutcome","issue":[
 {"severity":"error","code":"invalid","diagnostics":"Patient.birthDate: not a date","expression":["Patient.birthDate"]},
 {"severity":"warning","code":"business-rule","details":{"text":"check the name"},"location":["Patient.name[0]"]}]}`

// statusServer answers every request with status and body.
func statusServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(status)
		_, _ = fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// statusConn is a connection, through a plain http.Client, to a server that
// answers every request with status and body.
func statusConn(t *testing.T, status int, body string) *fhir.Conn {
	t.Helper()
	srv := statusServer(t, status, body)
	conn, err := fhir.New("ehr", srv.URL+"/fhir", srv.Client())
	require.NoError(t, err)
	return conn
}

// The status sentinels are rest's, and hold alike whatever the connection
// sends its requests through.
func TestErrorSentinels(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{400, rest.ErrBadRequest}, {401, rest.ErrUnauthorized}, {403, rest.ErrForbidden},
		{404, rest.ErrNotFound}, {409, rest.ErrConflict}, {410, rest.ErrGone},
		{412, rest.ErrPreconditionFailed}, {422, rest.ErrUnprocessable}, {503, rest.ErrServerError},
	}
	all := []error{rest.ErrBadRequest, rest.ErrUnauthorized, rest.ErrForbidden, rest.ErrNotFound, rest.ErrConflict,
		rest.ErrGone, rest.ErrPreconditionFailed, rest.ErrUnprocessable, rest.ErrServerError, rest.ErrTransport}
	for _, kind := range connKinds {
		for _, tt := range tests {
			t.Run(fmt.Sprint(kind.name, "/", tt.status), func(t *testing.T) {
				srv := statusServer(t, tt.status, outcomeJSON)
				conn := kind.conn(t, srv.URL+"/fhir")
				_, err := fhir.Read[models.Patient](ctx(t), conn, "1")
				require.Error(t, err)
				for _, s := range all {
					assert.Equal(t, s == tt.want, errors.Is(err, s), "%v", s)
				}
				assert.Equal(t, tt.status < 500, errors.Is(err, rest.ErrClientError), "4xx class")
				var fe *fhir.Error
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.status, fe.StatusCode)
				assert.Len(t, fe.Issues, 2)
				var re *rest.Error
				require.ErrorAs(t, err, &re, "a *fhir.Error wraps the connection's *rest.Error")
				assert.Equal(t, tt.status, re.StatusCode)
				assert.Equal(t, "GET", re.Method)
			})
		}
	}
}

// One taxonomy: a 404 and a refused connection give the same errors, with
// one prefix, whatever the connection sends its requests through.
func TestErrorTaxonomy(t *testing.T) {
	fs := fhirtest.NewServer()
	t.Cleanup(fs.Close)
	closed := refusing.URL(t)

	tests := []struct {
		name   string
		base   string
		is     error
		isNot  error
		status int
		want   string
	}{
		{"404 from fhirtest", fs.URL, rest.ErrNotFound, rest.ErrTransport, http.StatusNotFound, "404 Not Found; error not-found"},
		{"connection refused", closed + "/fhir", rest.ErrTransport, rest.ErrNotFound, 0, "connection refused"},
	}
	for _, kind := range connKinds {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				conn := kind.conn(t, tt.base)
				_, err := fhir.Read[models.Patient](ctx(t), conn, "missing")
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.is)
				assert.NotErrorIs(t, err, tt.isNot)

				var fe *fhir.Error
				require.ErrorAs(t, err, &fe)
				var re *rest.Error
				require.ErrorAs(t, err, &re)
				assert.Same(t, re, fe.Err, "the *rest.Error is the one wrapped")
				assert.Equal(t, tt.status, re.StatusCode)
				assert.Equal(t, tt.status, fe.StatusCode)
				assert.Equal(t, "ehr", re.Conn)
				assert.Equal(t, "GET", re.Method)
				assert.Equal(t, tt.base+"/Patient/missing", re.URL)

				msg := err.Error()
				t.Log(msg)
				assert.True(t, strings.HasPrefix(msg, "fhir: ehr: GET "+tt.base+"/Patient/missing: "), msg)
				assert.NotContains(t, msg, "rest: ", "no stacked prefixes")
				assert.Contains(t, msg, tt.want)
			})
		}
	}
}

func TestErrorOperationOutcome(t *testing.T) {
	conn := statusConn(t, 422, outcomeJSON)
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
	conn := statusConn(t, 502, "<html>Bad Gateway</html>")
	_, err := fhir.Read[models.Patient](ctx(t), conn, "1")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Empty(t, fe.Issues)
	assert.ErrorIs(t, err, rest.ErrServerError)
	var re *rest.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "<html>Bad Gateway</html>", re.Excerpt, "the body is kept as the excerpt")
}

func TestErrorRedactsURL(t *testing.T) {
	conn := statusConn(t, 400, outcomeJSON)
	for _, err := range conn.Pages(ctx(t), "Patient", fhir.Params().Add("family", "Secretname").Add("birthdate", "1970")) {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "Secretname")
		assert.NotContains(t, err.Error(), "1970")
		assert.Contains(t, err.Error(), "birthdate=[redacted]&family=[redacted]")
	}
}

func TestErrorTransport(t *testing.T) {
	conn, err := fhir.New("ehr", refusing.URL(t)+"/fhir", http.DefaultClient)
	require.NoError(t, err)
	_, err = fhir.Read[models.Patient](ctx(t), conn, "1")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Zero(t, fe.StatusCode)
	assert.ErrorIs(t, err, rest.ErrTransport, "no response")
	var re *rest.Error
	require.ErrorAs(t, err, &re)
	assert.Zero(t, re.StatusCode)
	assert.Error(t, re.Err, "the cause")

	for _, err := range conn.Pages(ctx(t), "Patient", fhir.Params().Add("family", "Secretname")) {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "Secretname", "transport errors hide query values too")
	}

	cctx, cancel := context.WithCancel(ctx(t))
	cancel()
	_, err = fhir.Read[models.Patient](cctx, conn, "1")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, rest.ErrTransport)
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

// A 404 whose body is too large to read is still a 404, and its text does
// not stack prefixes; the error names the FHIR connection.
func TestTooLargeErrorBodyKeepsItsStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 2048))
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client(), fhir.WithMaxBody(1000))
	require.NoError(t, err)
	_, err = fhir.Read[models.Patient](context.Background(), conn, "1")
	assert.ErrorIs(t, err, rest.ErrNotFound)
	assert.ErrorIs(t, err, fhir.ErrBodyTooLarge)
	assert.Equal(t, 1, strings.Count(err.Error(), "fhir:"), err.Error())
	assert.NotContains(t, err.Error(), "rest:")
	assert.True(t, strings.HasPrefix(err.Error(), "fhir: ehr: GET "), err.Error())
}

// outcomeOf is an OperationOutcome of n issues.
func outcomeOf(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"OperationOutcome","issue":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"severity":"error","code":"invalid","diagnostics":"bad \u202eelement\u2028 %d"}`, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// An error keeps the first 20 issues of the server's OperationOutcome and
// counts the others; an error body over 1 MiB is not read further, and
// its status still counts.
func TestErrorKeepsABoundedNumberOfIssues(t *testing.T) {
	big := outcomeOf(10_000) // under 1 MiB
	require.Less(t, len(big), 1<<20)
	huge := outcomeOf(190_000) // 16 MiB, under the connection's bound
	require.Greater(t, len(huge), 15<<20)
	require.Less(t, len(huge), defaultMaxBody)
	for name, tc := range map[string]struct {
		body        []byte
		issues      int
		more        int
		tooLarge    bool
		description string
	}{
		"10,000 issues":  {big, 20, 9_980, false, "(+9997 more issues)"},
		"16 MiB outcome": {huge, 0, 0, true, "response body too large (more than 1048576 bytes)"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write(tc.body)
			}))
			t.Cleanup(srv.Close)
			conn, err := fhir.New("ehr", srv.URL, srv.Client())
			require.NoError(t, err)
			_, err = fhir.Read[models.Patient](context.Background(), conn, "1")
			var fe *fhir.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, http.StatusBadRequest, fe.StatusCode)
			assert.Len(t, fe.Issues, tc.issues)
			assert.Equal(t, tc.more, fe.MoreIssues)
			assert.Equal(t, tc.tooLarge, errors.Is(err, fhir.ErrBodyTooLarge))
			assert.Contains(t, err.Error(), tc.description)
			if tc.issues > 0 {
				assert.Equal(t, "bad \u202eelement\u2028 0", fe.Issues[0].Diagnostics, "the issue as the server wrote it")
				assert.Contains(t, err.Error(), "error invalid: bad element 0;", "its text on one line, without bidi overrides")
			}
		})
	}
}

// Every part of an issue an *Error shows is the server's text, shown on
// one line and bounded: a severity with a line break must not forge a log
// line, and a code or expressions of megabytes must not fill one.
func TestErrorShowsIssuesOnOneBoundedLine(t *testing.T) {
	long := strings.Repeat("E", 50000)
	exprs := `"` + long + `","Patient.name` + "\\n" + `FORGED"`
	for range 100 {
		exprs += `,"Patient.x"`
	}
	conn := statusConn(t, http.StatusBadRequest, `{"resourceType":"OperationOutcome","issue":[{"severity":"error\nFORGED log line",
		"code":"`+long+`","diagnostics":"d","expression":[`+exprs+`]}]}`)
	_, err := fhir.Read[models.Patient](ctx(t), conn, "1")
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "\n")
	assert.Less(t, len(msg), 1000)
	assert.Contains(t, msg, "; error FORGED log lin… EEEE")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Len(t, fe.Issues[0].Expression, 102, "the issue keeps what the server sent")
}
