package oauthtest

import (
	"context"
	"crypto/rand"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

const maxBodyBytes = 1 << 20

type failure struct {
	left int
	resp Response
}

// FailNext makes the next n token requests answer r instead of being
// served: for example a 503 with a Retry-After header, a 200 with an error
// body, or an HTML page from a proxy. The requests are still counted, and
// latency still applies. Calls queue up: FailNext(1, a); FailNext(2, b)
// answers a, b, b, then serves normally again.
func (s *Server) FailNext(n int, r Response) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.failures = append(s.failures, failure{left: n, resp: r})
	s.mu.Unlock()
}

func (s *Server) nextFailure() (Response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return Response{}, false
	}
	f := &s.failures[0]
	r := f.resp
	if f.left--; f.left == 0 {
		s.failures = s.failures[1:]
	}
	return r, true
}

// SetShape makes the server write successful token responses with shape
// instead of the standard one (RFC 6749 §5.1: a JSON object with
// access_token, token_type "Bearer" or "DPoP", expires_in — omitted for a
// token that never expires —, scope, refresh_token and issued_token_type
// when they are set; see [JSONWith]); nil restores the standard. The token is
// issued (and valid) whatever the shape sends.
func (s *Server) SetShape(shape func(Token) Response) {
	s.mu.Lock()
	s.shape = shape
	s.mu.Unlock()
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	formErr := parseForm(r)
	id := peekClientID(r)
	s.count(id)
	rec := s.record(r, id)
	if !s.wait(r.Context()) {
		return
	}
	if f, ok := s.nextFailure(); ok {
		f.write(w)
		return
	}
	resp := s.token(r, formErr, rec)
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	s.nonceHeader(resp.Header)
	resp.write(w)
}

// token serves one token request that was not answered by an injected
// failure.
func (s *Server) token(r *http.Request, formErr error, rec *Request) Response {
	if r.Method != http.MethodPost {
		resp := OAuthError(http.StatusMethodNotAllowed, "invalid_request", "token requests must use POST")
		resp.Header.Set("Allow", http.MethodPost)
		return resp
	}
	if formErr != nil {
		return OAuthError(http.StatusBadRequest, "invalid_request", formErr.Error())
	}
	gt := r.PostForm.Get("grant_type")
	var c *client
	if gt != grantJWTBearer || hasClientAuth(r) { // client authentication is optional with an assertion grant
		var method string
		var errResp *Response
		if c, method, errResp = s.authenticate(r); errResp != nil {
			return *errResp
		}
		s.recordMethod(rec, method)
	}
	var t Token
	switch gt {
	case "client_credentials":
		scope, ok := grantScope(c.scopes, r.PostForm.Get("scope"))
		if !ok {
			return OAuthError(http.StatusBadRequest, "invalid_scope", "a requested scope is not allowed for this client")
		}
		t = Token{ClientID: c.id, Scope: scope}
	case grantJWTBearer, grantTokenExchange, "refresh_token", "authorization_code":
		var errResp *Response
		if t, errResp = s.grant(gt, c, r.PostForm); errResp != nil {
			return *errResp
		}
	case "":
		return OAuthError(http.StatusBadRequest, "invalid_request", "grant_type is missing")
	default:
		return OAuthError(http.StatusBadRequest, "unsupported_grant_type", "grant_type is not supported")
	}
	t.Grant = gt
	if r.Header.Get("DPoP") != "" {
		var err error
		if t.JKT, err = s.checkProof(r, s.TokenURL(), ""); errors.Is(err, errNonce) {
			return OAuthError(http.StatusBadRequest, "use_dpop_nonce", "the DPoP proof needs the server's nonce")
		} else if err != nil {
			return OAuthError(http.StatusBadRequest, "invalid_dpop_proof", err.Error())
		}
	}
	t, shape := s.issueToken(t)
	return shape(t)
}

// hasClientAuth reports whether r carries any client authentication.
func hasClientAuth(r *http.Request) bool {
	_, basic := basicCredentials(r)
	f := r.PostForm
	return basic || f.Has("client_id") || f.Has("client_assertion") || f.Has("client_assertion_type") || f.Has("client_secret")
}

// parseForm parses a POST body; it reports a body that is not
// application/x-www-form-urlencoded.
func parseForm(r *http.Request) error {
	if r.Method != http.MethodPost {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return errBadContentType
	}
	if err := r.ParseForm(); err != nil {
		return errBadForm
	}
	return nil
}

type requestError string

func (e requestError) Error() string { return string(e) }

const (
	errBadContentType = requestError("content type must be application/x-www-form-urlencoded")
	errBadForm        = requestError("malformed form body")
)

// wait applies the configured latency; it returns false if the client went
// away or the server was closed before the latency elapsed.
func (s *Server) wait(ctx context.Context) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// grantScope checks the requested scopes against the allowed ones (all are
// allowed when allowed is empty) and returns the granted scope: the request,
// or all allowed scopes when the request names none.
func grantScope(allowed []string, requested string) (string, bool) {
	req := strings.Fields(requested)
	if len(req) == 0 {
		return strings.Join(allowed, " "), true
	}
	if len(allowed) > 0 {
		for _, sc := range req {
			if !slices.Contains(allowed, sc) {
				return "", false
			}
		}
	}
	return strings.Join(req, " "), true
}

// issueToken issues t (its value, issue time and expiry are the
// server's) and returns it with the shape of the answer.
func (s *Server) issueToken(t Token) (Token, func(Token) Response) {
	now := s.clock()
	t.AccessToken, t.IssuedAt = rand.Text(), now
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lifetime > 0 {
		t.Expiry = now.Add(s.lifetime)
	}
	s.tokens[t.AccessToken] = &t
	s.grants.noteAccess(t.RefreshToken, t.AccessToken)
	shape := s.shape
	if shape == nil {
		shape = standard
	}
	return t, shape
}
