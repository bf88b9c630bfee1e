package fhirtest

import (
	"fmt"
	"net/http"
)

// FailNext makes the server answer the next n requests with status and
// an OperationOutcome, whatever they ask and whatever token they carry
// (metadata and discovery excepted): a 401 (with WWW-Authenticate:
// Bearer error="invalid_token", as for a token the server no longer
// accepts) tests a client's resend with a fresh token, a 500 or a 403 a
// service's answer to a backend that refuses, a 503 or a 429 (with
// Retry-After: 0) the connection's retries. Calls add up: FailNext(1,
// 503) then FailNext(1, 500) fails the next request with 503 and the one
// after with 500.
func (s *Server) FailNext(n, status int) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	for range n {
		s.failNext = append(s.failNext, status)
	}
}

// failNow answers the request with the next injected failure, if any.
func (s *Server) failNow(w http.ResponseWriter) bool {
	s.statsMu.Lock()
	if len(s.failNext) == 0 {
		s.statsMu.Unlock()
		return false
	}
	status := s.failNext[0]
	s.failNext = s.failNext[1:]
	s.statsMu.Unlock()
	code := "exception"
	switch {
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		code = "login"
	case status == http.StatusForbidden:
		code = "forbidden"
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "0")
		code = "transient"
	case status < 500:
		code = "processing"
	}
	outcome(w, status, code, fmt.Sprintf("failure injected by FailNext (%d %s)", status, http.StatusText(status)))
	return true
}
