package oauthclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// RFC 6749 §5.2 (and RFC 8707 §2) error codes, usable with errors.Is on any
// error returned by a token request:
//
//	if errors.Is(err, oauthclient.ErrInvalidClient) { … }
//
// Other codes (invalid_request, unauthorized_client, a vendor's…) are in
// [Error.Code].
var (
	ErrInvalidClient = errors.New("invalid_client")
	ErrInvalidGrant  = errors.New("invalid_grant")
	ErrInvalidScope  = errors.New("invalid_scope")
	ErrInvalidTarget = errors.New("invalid_target")
)

// errUseDPoPNonce is RFC 9449's request for a nonce, which a source
// answers itself.
var errUseDPoPNonce = errors.New("use_dpop_nonce")

// ErrMalformedResponse matches token responses that could not be understood:
// an empty body, HTML from a proxy, JSON without access_token…
var ErrMalformedResponse = errors.New("malformed token response")

// ErrUnknownDefinition matches a lookup of a name no definition has.
var ErrUnknownDefinition = errors.New("unknown security definition")

// ErrNoToken matches the error of a request a [Transport] did not send
// because no token could be had; the cause (an *Error, a *BackoffError…)
// is wrapped too. A caller's retry policy should not repeat such a
// request: the source has its own backoff, and waits for its next attempt
// when that comes soon enough (Options.MaxBackoffWait).
var ErrNoToken = errors.New("no token")

// noTokenError marks a token failure as ErrNoToken; its text is its cause's.
type noTokenError struct{ err error }

func (e noTokenError) Error() string        { return e.err.Error() }
func (e noTokenError) Unwrap() error        { return e.err }
func (e noTokenError) Is(target error) bool { return target == ErrNoToken }

// ErrCertificateMismatch matches the error of a request a [Transport] did
// not send: its definition authenticates with a client certificate, to
// which its tokens are bound (RFC 8705 §3), and the connection presents
// another certificate (its base transport's own). Nothing left: a
// resource server would refuse the token, and sending it again would not
// help. The error names the definition and the SHA-256 of the certificate
// presented; a rest connection's error names the connection.
var ErrCertificateMismatch = errors.New("certificate-bound token kept from a connection presenting another certificate")

// certificateError is an ErrCertificateMismatch of one request.
type certificateError struct {
	definition string
	presented  string // hex SHA-256 of the certificate the connection presents
}

func (e *certificateError) Error() string {
	return fmt.Sprintf("security definition %q authenticates with a client certificate, to which its tokens are bound (RFC 8705), "+
		"and the connection presents another (SHA-256 %s): request not sent", e.definition, e.presented)
}

func (e *certificateError) Is(target error) bool { return target == ErrCertificateMismatch }

// ErrClosed matches a token asked of a source that was closed (its
// definition removed, or its registry closed).
var ErrClosed = errors.New("closed")

var codes = map[error]string{
	ErrInvalidClient: "invalid_client",
	ErrInvalidGrant:  "invalid_grant",
	ErrInvalidScope:  "invalid_scope",
	ErrInvalidTarget: "invalid_target",
	errUseDPoPNonce:  "use_dpop_nonce",
}

// Error is a failed token request: the HTTP status, the RFC 6749 §5.2
// fields when the server sent them, and otherwise a short, sanitized excerpt
// of what it sent. It never contains the client secret or an assertion.
type Error struct {
	Definition  string        // security definition name
	StatusCode  int           // HTTP status of the token response
	Code        string        // RFC 6749 "error", e.g. "invalid_client"
	Description string        // "error_description"
	URI         string        // "error_uri"
	Excerpt     string        // start of a body that was not an RFC error
	RetryAfter  time.Duration // from a Retry-After header, if any
	// Header keeps the response's WWW-Authenticate, Retry-After and
	// DPoP-Nonce headers, scrubbed like the excerpt; nil when it had none.
	Header http.Header
	Err    error // ErrMalformedResponse, or nil

	endpoint string // the token URL asked, its query values blanked; "" if unknown
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "security definition %q: token request", e.Definition)
	if e.endpoint != "" {
		fmt.Fprintf(&b, " to %s", e.endpoint)
	}
	b.WriteString(" failed")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, ": body starts %q", e.Excerpt)
	}
	return b.String()
}

// askedOf names in an *Error the endpoint u that answered it, so that a
// wrong token_url shows itself; query values are blanked.
func askedOf(err error, u *url.URL) error {
	if e := (*Error)(nil); errors.As(err, &e) {
		e.endpoint = redact.URL(u, nil)
	}
	return err
}

// Is reports whether target is the sentinel of e's RFC code.
func (e *Error) Is(target error) bool {
	for sentinel, code := range codes {
		if target == sentinel {
			return code == e.Code
		}
	}
	return false
}

// Unwrap returns the cause (ErrMalformedResponse) if any.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether retrying later may succeed: server errors,
// rate limiting and malformed answers are; client errors such as
// invalid_client or invalid_scope are not.
func (e *Error) Temporary() bool {
	switch {
	case e.StatusCode == 429 || e.StatusCode >= 500:
		return true
	case e.Code != "":
		return false
	case e.StatusCode >= 400:
		return false
	}
	return true
}

// BackoffError is returned to a caller without a valid token while the
// source waits before retrying a failed fetch. It wraps the last error, so
// errors.Is(err, ErrInvalidClient) and the like still work.
type BackoffError struct {
	Definition string
	Until      time.Time
	Err        error
}

func (e *BackoffError) Error() string {
	prefix := fmt.Sprintf("security definition %q: ", e.Definition)
	cause := "<nil>"
	if e.Err != nil {
		cause = strings.TrimPrefix(e.Err.Error(), prefix) // the definition is named once
	}
	return fmt.Sprintf("%sno valid token; next attempt after %s: %s", prefix, e.Until.UTC().Format(time.RFC3339), cause)
}

func (e *BackoffError) Unwrap() error { return e.Err }
