package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/refusing"
	"github.com/tokenwire/tokenwire/internal/rendertest"
)

// queryEchoTransport fails every request with an error that repeats its
// URL, as a proxy or an instrumented transport may.
type queryEchoTransport struct{}

func (queryEchoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s", r.URL)
}

// An error shows no query value: not in its URL (values blanked, as in
// ConnStats.LastError), not in the excerpt of the server's answer (which
// echoes the value as it is, URL-encoded and JSON-escaped), not in a
// transport error's cause — in every rendering: Error(), the fmt verbs,
// slog, JSON. Names, paths and the server's words stay.
func TestErrorsShowNoQueryValue(t *testing.T) {
	const email = "alice.private@example.com"
	const name = "Zebulon Quimby"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		q := r.URL.Query()
		j, _ := json.Marshal(q.Get("name"))
		_, _ = fmt.Fprintf(w, `{"error":"no customer with email %s","query":"%s","name":%s,"page":"1 of 400"}`,
			q.Get("email"), url.QueryEscape(q.Get("email")), j)
	})
	var logs strings.Builder
	c, _ := testConn(t, srv.URL+"/api?tenant=acme-eu-7", nil, ConnConfig{})
	c.log = slog.New(slog.NewTextHandler(&logs, nil))
	opts := []RequestOption{Query("email", email), Query("name", name), Query("page", "4")}

	_, err := c.Get(context.Background(), "customers", opts...)
	require.ErrorIs(t, err, ErrNotFound)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, srv.URL+"/api/customers?email=[redacted]&name=[redacted]&page=[redacted]&tenant=[redacted]", e.URL)
	assert.Contains(t, e.Excerpt, "no customer with email [redacted]")
	assert.Contains(t, e.Excerpt, `"page":"1 of 400"`, "a value is blanked as a whole token only")
	_, jsonErr := GetJSON[map[string]any](context.Background(), c, "customers", opts...)
	require.ErrorIs(t, jsonErr, ErrNotFound)

	refused, _ := testConn(t, refusing.URL(t), nil, ConnConfig{Retry: RetryPolicy{MaxAttempts: 1}})
	_, refusedErr := refused.Get(context.Background(), "customers", opts...)
	require.ErrorIs(t, refusedErr, ErrTransport)

	echo, err2 := NewConn("crm", ConnConfig{BaseURL: "https://crm.example.com", Retry: RetryPolicy{MaxAttempts: 1}}, nil, WithTransport(queryEchoTransport{}))
	require.NoError(t, err2)
	_, echoErr := echo.Get(context.Background(), "customers", opts...)
	require.ErrorIs(t, echoErr, ErrTransport)
	assert.Contains(t, echoErr.Error(), "proxy refused https://crm.example.com/customers?email=")

	for label, err := range map[string]error{"status": err, "json": jsonErr, "transport": refusedErr, "cause echoing the URL": echoErr} {
		var e *Error
		require.True(t, errors.As(err, &e), label)
		rendertest.NoSecret(t, label+" error", err, email, url.QueryEscape(email), "Zebulon", "Quimby", "acme-eu-7")
		rendertest.NoSecret(t, label+" *Error", *e, email, url.QueryEscape(email), "Zebulon", "Quimby", "acme-eu-7")
		assert.Contains(t, err.Error(), "email=[redacted]", label)
	}
	for _, s := range []string{logs.String(), c.Stats().LastError} {
		assert.NotContains(t, s, email)
		assert.NotContains(t, s, "acme-eu-7")
	}
}

// No rendering of an *Error shows a connection's secret or the credential
// sent (Error(), every fmt verb, slog, JSON, YAML), whatever the kind of
// security and wherever the backend echoes it.
func TestErrorRenderingsHoldNoSecret(t *testing.T) {
	const secret = "TOPSECRET-value-31"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, "denied for %s %s %s", r.Header.Get("Authorization"), r.URL.Query().Get("key"), r.Header.Get("X-Key"))
	})
	for name, sec := range map[string]Security{
		"basic": Basic("svc", secret), "bearer": Bearer(secret), "header": APIKeyHeader("X-Key", secret), "query": APIKeyQuery("key", secret),
	} {
		c, _ := testConn(t, srv.URL, sec, ConnConfig{})
		_, err := c.Get(context.Background(), "customers/42", Query("token", secret))
		var e *Error
		require.ErrorAs(t, err, &e, name)
		require.ErrorIs(t, err, ErrForbidden, name)
		basic := "svc:" + secret
		rendertest.NoSecret(t, name+" error", err, secret, basic)
		rendertest.NoSecret(t, name+" *Error", *e, secret, basic)
	}
}

// A query value the server echoes across the excerpt's bound is blanked
// before the excerpt is cut: no part of it is shown.
func TestExcerptBoundDoesNotCutAQueryValueOpen(t *testing.T) {
	const email = "alice.private@example.com"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, "%s %s is unknown", strings.Repeat("x", maxExcerpt-10), r.URL.Query().Get("email"))
	})
	c, _ := testConn(t, srv.URL, nil, ConnConfig{})
	_, err := c.Get(context.Background(), "customers", Query("email", email))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.LessOrEqual(t, len(e.Excerpt), maxExcerpt)
	assert.NotContains(t, e.Excerpt, "alice")
	assert.True(t, strings.HasSuffix(e.Excerpt, " [redacted"), "cut inside the mark, not the value: %q", e.Excerpt[len(e.Excerpt)-12:])
}

// A query that url.ParseQuery refuses in part (a pair with a ";", a bad
// escape) goes out through Conn.Do with an absolute URL (only Send and
// the like check a query): its values are blanked all the same from a
// cause that repeats the URL.
func TestErrorsShowNoValueOfAQueryThatDoesNotParse(t *testing.T) {
	const email = "alice.private@example.com"
	echo, err := NewConn("crm", ConnConfig{BaseURL: "https://crm.example.com", Retry: RetryPolicy{MaxAttempts: 1}}, nil, WithTransport(queryEchoTransport{}))
	require.NoError(t, err)
	for _, q := range []string{"email=" + email + ";fields=a", "email=" + email + "%zz", "fields=a;email=" + email, "email=" + email + "&x=%zz"} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://crm.example.com/customers?"+q, nil)
		require.NoError(t, err)
		_, err = echo.Do(req)
		require.ErrorIs(t, err, ErrTransport)
		assert.Contains(t, err.Error(), "proxy refused https://crm.example.com/customers?", q)
		assert.NotContains(t, err.Error(), "private", q)
		assert.NotContains(t, echo.Stats().LastError, "private", q)
	}
}

// queryEchoAnswer answers every request 404, echoing its query values in
// its body, and leaves the response's Request unset, as a RoundTripper
// may (only http.Client's own transports set it).
type queryEchoAnswer struct{}

func (queryEchoAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("no customer with email " + r.URL.Query().Get("email")))}, nil
}

// A transport that does not set the response's Request still gets the
// call's query values blanked from the excerpt, and its URL shown.
func TestErrorOfAResponseWithoutItsRequest(t *testing.T) {
	const email = "alice.private@example.com"
	for _, sec := range []Security{nil, None()} {
		c, err := NewConn("crm", ConnConfig{BaseURL: "https://crm.example.com", Retry: RetryPolicy{MaxAttempts: 1}}, sec, WithTransport(queryEchoAnswer{}))
		require.NoError(t, err)
		_, err = c.Get(context.Background(), "customers", Query("email", email))
		require.ErrorIs(t, err, ErrNotFound)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "no customer with email [redacted]", e.Excerpt)
		assert.Equal(t, "https://crm.example.com/customers?email=[redacted]", e.URL)
		assert.Equal(t, http.MethodGet, e.Method)
		assert.NotContains(t, err.Error(), "private")
	}
}
