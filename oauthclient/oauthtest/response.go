package oauthtest

import (
	"encoding/json"
	"maps"
	"net/http"
	"time"
)

// Response is a raw answer of the token endpoint, used to inject failures
// ([Server.FailNext]) and to shape successful answers ([Server.SetShape]).
type Response struct {
	Status      int         // HTTP status; 0 means 200
	ContentType string      // Content-Type header; "" sends none
	Body        string      // response body, sent as is
	Header      http.Header // further headers, e.g. Retry-After
}

func (r Response) write(w http.ResponseWriter) {
	h := w.Header()
	maps.Copy(h, r.Header.Clone())
	if r.ContentType != "" {
		h.Set("Content-Type", r.ContentType)
	} else {
		h["Content-Type"] = nil // no sniffing either
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(r.Body))
}

// OAuthError returns an RFC 6749 §5.2 error response: a JSON object with
// error and, when not empty, error_description.
func OAuthError(status int, code, description string) Response {
	m := map[string]string{"error": code}
	if description != "" {
		m["error_description"] = description
	}
	return jsonResponse(status, m)
}

func jsonResponse(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil { // only plain maps of strings, numbers and user values
		return OAuthError(http.StatusInternalServerError, "server_error", err.Error())
	}
	return Response{
		Status:      status,
		ContentType: "application/json",
		Body:        string(b),
		Header:      http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}},
	}
}

// Token is a token the server issued.
type Token struct {
	AccessToken string    // random and opaque
	ClientID    string    // the client it was issued to
	Scope       string    // granted scopes, space separated; may be empty
	IssuedAt    time.Time // by the server's clock
	Expiry      time.Time // zero if the token never expires
	JKT         string    // DPoP: the thumbprint of the key it is bound to; "" for a bearer token
	// Grant is the grant_type it was issued for ("client_credentials",
	// "refresh_token"…, or "login" for the login endpoint).
	Grant string
	// Subject is who it stands for, when not its client: the sub of a JWT
	// bearer assertion, the subject of an exchanged token, the user who
	// authorised a code.
	Subject string
	Actor   string // token exchange: the subject of the actor token, if any
	// RefreshToken is the refresh token issued with it, if any.
	RefreshToken string
	// IssuedTokenType is a token exchange's issued_token_type.
	IssuedTokenType string
}

// expiresIn returns the lifetime of t in whole seconds, or 0 if it never
// expires.
func expiresIn(t Token) int64 {
	if t.Expiry.IsZero() {
		return 0
	}
	return int64(t.Expiry.Sub(t.IssuedAt) / time.Second)
}

// standard is the standard successful response (RFC 6749 §5.1).
func standard(t Token) Response { return jsonResponse(http.StatusOK, fields(t)) }

// JSONWith returns a shape for [Server.SetShape] that answers the standard
// JSON object with
// fields overridden: a nil value removes a field. For example
// JSONWith(map[string]any{"expires_in": "3600", "token_type": "BearerToken"})
// sends expires_in as a string and an unusual token type.
func JSONWith(override map[string]any) func(Token) Response {
	return func(t Token) Response {
		m := fields(t)
		for k, v := range override {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return jsonResponse(http.StatusOK, m)
	}
}

func fields(t Token) map[string]any {
	m := map[string]any{"access_token": t.AccessToken, "token_type": "Bearer"}
	if t.JKT != "" {
		m["token_type"] = "DPoP"
	}
	if n := expiresIn(t); n > 0 {
		m["expires_in"] = n
	}
	if t.Scope != "" {
		m["scope"] = t.Scope
	}
	if t.RefreshToken != "" {
		m["refresh_token"] = t.RefreshToken
	}
	if t.IssuedTokenType != "" {
		m["issued_token_type"] = t.IssuedTokenType
	}
	return m
}
