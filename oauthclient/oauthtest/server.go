package oauthtest

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// tokenPath is the path of the token endpoint.
const tokenPath = "/oauth2/token"

// Server is a fake OAuth 2.0 authorization server. Its methods are safe for
// concurrent use, also while requests are being served.
type Server struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port
	// (https:// for [NewTLSServer]). It is also the issuer identifier.
	// It is read-only.
	URL string

	base string // copy of URL for handlers

	srv  *httptest.Server
	done chan struct{} // closed by Close; ends pending latency waits
	once sync.Once

	total    atomic.Int64
	perCount sync.Map // client id → *atomic.Int64

	mu              sync.Mutex
	now             func() time.Time
	lifetime        time.Duration
	latency         time.Duration
	shape           func(Token) Response
	failures        []failure
	clients         map[string]*client
	tokens          map[string]*Token
	jtis            map[string]time.Time // client id + "\x00" + jti → assertion expiry
	dpopNonce       string               // required in DPoP proofs when set
	nonceChallenges atomic.Int64
	last            *Request
	seen            []string
	grants          grantState
}

// Option configures a [Server] at construction.
type Option func(*Server)

// WithClock makes the server read the time from now instead of time.Now:
// it decides token expiry and checks client assertions with it.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithTokenLifetime sets the lifetime of the tokens the server issues
// (default an hour). A lifetime of zero or less issues tokens that never
// expire and omits expires_in from the response.
func WithTokenLifetime(d time.Duration) Option {
	return func(s *Server) { s.lifetime = d }
}

// NewServer starts a plain-HTTP server on 127.0.0.1. The caller must call
// [Server.Close] when done, typically with t.Cleanup(s.Close).
func NewServer(opts ...Option) *Server {
	s := newServer(opts)
	s.srv = httptest.NewUnstartedServer(s.handler())
	// Set URL before the server starts: handlers read it.
	s.base = "http://" + s.srv.Listener.Addr().String()
	s.URL = s.base
	s.srv.Start()
	return s
}

// NewTLSServer starts an HTTPS server on 127.0.0.1 with a self-signed
// certificate. [Server.Client] trusts it; [Server.CertPool] gives the
// certificate to callers that build their own client. The server asks for,
// but does not require, a client certificate, which clients registered
// with a Certificate ([Client]) must present.
func NewTLSServer(opts ...Option) *Server {
	s := newServer(opts)
	s.srv = httptest.NewUnstartedServer(s.handler())
	s.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	s.base = "https://" + s.srv.Listener.Addr().String()
	s.URL = s.base
	s.srv.StartTLS()
	return s
}

func newServer(opts []Option) *Server {
	s := &Server{
		done:     make(chan struct{}),
		now:      time.Now,
		lifetime: time.Hour,
		clients:  make(map[string]*client),
		tokens:   make(map[string]*Token),
		jtis:     make(map[string]time.Time),
		grants:   newGrantState(),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(tokenPath, s.serveToken)
	mux.HandleFunc(authorizePath, s.serveAuthorize)
	mux.HandleFunc(loginPath, s.serveLogin)
	return mux
}

// Close ends pending latency waits, shuts the server down and waits for
// outstanding requests to finish. It may be called more than once.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.Close()
}

// TokenURL returns the URL of the token endpoint.
func (s *Server) TokenURL() string { return s.base + tokenPath }

// Client returns an HTTP client configured for the server: for a TLS server
// it trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertPool returns a pool holding the certificate of a TLS server, for
// callers that build their own TLS configuration (for example with a client
// certificate). It returns nil for a plain-HTTP server.
func (s *Server) CertPool() *x509.CertPool {
	cert := s.srv.Certificate()
	if cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// SetLatency makes the token endpoint wait d before it answers. The wait
// ends early, without an answer, when the client goes away or the server is
// closed.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Requests reports how many token requests named clientID (in a Basic
// header, the client_id parameter or a client assertion), whatever their
// outcome, injected failures included; with "", how many requests reached
// the token endpoint.
func (s *Server) Requests(clientID string) int {
	if clientID == "" {
		return int(s.total.Load())
	}
	c, ok := s.perCount.Load(clientID)
	if !ok {
		return 0
	}
	return int(c.(*atomic.Int64).Load())
}

func (s *Server) count(clientID string) {
	s.total.Add(1)
	if clientID == "" {
		return
	}
	c, _ := s.perCount.LoadOrStore(clientID, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

// clock returns the current time of the server's clock.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	now := s.now
	s.mu.Unlock()
	return now()
}
