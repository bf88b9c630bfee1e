package fhirtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tokenwire/tokenwire/fhir"
)

// basePath is the path of the FHIR base on the server: URL ends with it
// ("/fhir").
const basePath = "/fhir"

// Server is an in-memory FHIR R4 server listening on 127.0.0.1.
type Server struct {
	// URL is the FHIR base URL, such as http://127.0.0.1:41234/fhir, as
	// httptest.Server's URL is its root.
	URL string

	srv        *httptest.Server
	now        func() time.Time
	tokenCheck func(string) bool
	pageSize   int
	smart      *SmartConfiguration
	ops        map[string]Operation

	statsMu   sync.Mutex
	requests  int
	hits      map[string]int
	failNext  []int // statuses of the next requests to fail (failnext.go)
	rejected  map[string]bool
	lastToken string
	bulk      exportState // $export jobs (export.go)

	saved    map[string]url.Values // searches behind _getpages links (urilimit.go)
	savedSeq int

	mu     sync.Mutex // guards the store
	types  map[string]map[string]*record
	nextID int
	seq    int
}

// Operation implements $name. target is "", "Type" or "Type/id"; params
// holds the query of a GET, body the Parameters of a POST. The returned
// resource is sent with 200; an error becomes a 400 OperationOutcome. It
// runs without the store lock, so it may call the Server's methods.
type Operation func(target string, params url.Values, body []byte) (any, error)

// Option configures a Server.
type Option func(*Server)

// WithTokenCheck requires "Authorization: Bearer <token>" on every request
// but metadata and discovery, accepted when valid(token) is true; otherwise
// the server answers 401. Plug in an authorization server's check, e.g.
// WithTokenCheck(authServer.Valid).
func WithTokenCheck(valid func(token string) bool) Option {
	return func(s *Server) { s.tokenCheck = valid }
}

// WithClock injects the clock used for meta.lastUpdated (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithPageSize sets the default page size of searches and histories
// (default 10; _count overrides it).
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// SmartConfiguration is what the server serves at
// .well-known/smart-configuration (SMART App Launch, Backend Services):
// the members a client reads to find and use the token endpoint.
type SmartConfiguration struct {
	Issuer                            string   `json:"issuer,omitempty"`
	JWKSURI                           string   `json:"jwks_uri,omitempty"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	Capabilities                      []string `json:"capabilities,omitempty"`
}

// WithSmartConfiguration serves cfg at .well-known/smart-configuration.
// Without it, that path answers 404, as a server without SMART does:
// discovery never needs a token, so a [WithTokenCheck] never turns it into
// a 401 a client would take for its credentials.
func WithSmartConfiguration(cfg *SmartConfiguration) Option {
	return func(s *Server) { s.smart = cfg }
}

// WithOperation serves $name (without the dollar) with fn.
func WithOperation(name string, fn Operation) Option {
	return func(s *Server) { s.ops[strings.TrimPrefix(name, "$")] = fn }
}

// NewServer starts a server on 127.0.0.1. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{now: time.Now, pageSize: 10, ops: map[string]Operation{}, hits: map[string]int{},
		rejected: map[string]bool{}, types: map[string]map[string]*record{}}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fhirtest: listen on 127.0.0.1: %v", err))
	}
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.base()
	return s
}

// base is the FHIR base URL: URL as the server started it.
func (s *Server) base() string { return s.srv.URL + basePath }

// Client returns an *http.Client for the server (no token attached).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Conn returns a fhir.Conn to the server through [Server.Client].
func (s *Server) Conn(name string, opts ...fhir.Option) *fhir.Conn {
	c, err := fhir.New(name, s.base(), s.Client(), opts...)
	if err != nil {
		panic(err) // the URL is always valid
	}
	return c
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Requests returns the number of requests received.
func (s *Server) Requests() int {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.requests
}

// Hits returns how many requests had this method and path (relative to
// the base, without query), e.g. Hits("GET", "Patient/1").
func (s *Server) Hits(method, path string) int {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.hits[method+" "+strings.Trim(path, "/")]
}

// RejectToken makes the server answer 401 to every request carrying tok
// (as if it had been revoked).
func (s *Server) RejectToken(tok string) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.rejected[tok] = true
}

// LastToken returns the bearer token of the last request that carried one
// (for RejectToken, or to check which token a client sent).
func (s *Server) LastToken() string {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.lastToken
}

// serveHTTP serves every request.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if uriTooLong(w, r) {
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, basePath)
	rel = strings.Trim(rel, "/")
	s.count(r.Method, rel)
	if headerBytes(r) > maxHeaderBytes {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	if !ok {
		outcome(w, http.StatusNotFound, "not-found", "not under "+basePath)
		return
	}
	if rel == ".well-known/smart-configuration" { // discovery needs no token
		if s.smart == nil {
			outcome(w, http.StatusNotFound, "not-found", "no SMART configuration (see WithSmartConfiguration)")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.smart)
		return
	}
	if rel != "metadata" && s.failNow(w) {
		return
	}
	if rel != "metadata" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		outcome(w, http.StatusUnauthorized, "login", "missing, invalid or expired access token")
		return
	}
	if s.serveExport(w, r, rel) {
		return
	}
	if s.serveEverything(w, r, rel) {
		return
	}
	if i := strings.LastIndex(rel, "$"); i >= 0 {
		s.operation(w, r, strings.Trim(rel[:i], "/"), rel[i+1:])
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.route(w, r, rel)
}

// maxHeaderBytes bounds a request's line and headers, as Node's HTTP
// server does by default (16 KiB), and so the real FHIR server the tests
// hold fhirtest to: past it the answer is 431 with no body.
const maxHeaderBytes = 16 << 10

// headerBytes is about what the request line and headers took on the wire.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

func (s *Server) count(method, rel string) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.requests++
	s.hits[method+" "+rel]++
}

func (s *Server) authorized(r *http.Request) bool {
	tok, hasTok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if hasTok {
		s.lastToken = tok
	}
	if hasTok && s.rejected[tok] {
		return false
	}
	if s.tokenCheck == nil {
		return true
	}
	return hasTok && s.tokenCheck(tok)
}

func (s *Server) operation(w http.ResponseWriter, r *http.Request, target, name string) {
	fn, ok := s.ops[name]
	if !ok {
		if !s.builtinOp(w, r, target, name) {
			outcome(w, http.StatusNotFound, "not-supported", "unknown operation $"+name)
		}
		return
	}
	body, err := readBody(r)
	if err != nil {
		outcome(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	res, err := fn(target, r.URL.Query(), body)
	if err != nil {
		outcome(w, http.StatusBadRequest, "processing", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}
