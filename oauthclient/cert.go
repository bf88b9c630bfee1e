package oauthclient

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenwire/tokenwire/internal/files"
	"github.com/tokenwire/tokenwire/internal/tlsconf"
)

// certCheckEvery is how often, at most, the certificate files are looked
// at (two stats); they are read only when they changed.
const certCheckEvery = time.Second

// clientCerts is a definition's client certificate (RFC 8705): the fixed
// Config.Certificate, or the pair of Config.CertFile and KeyFile, read
// again when they change on disk (an atomic rename, a Kubernetes ..data
// symlink swap). A change is noticed at a TLS handshake or before a token
// fetch, at most once per certCheckEvery on the source's clock; a pair
// that does not load (half written, a key of another certificate) leaves
// the certificate in use as it is, and says why.
type clientCerts struct {
	name              string
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	cur      atomic.Pointer[certState]
	nextLook atomic.Int64 // unix nanos before which the files are not looked at

	mu      sync.Mutex     // one look at a time; guards seen and rotated
	seen    [2]os.FileInfo // of the files last read
	rotated []func(*certState)
	problem atomic.Pointer[string] // why the files on disk are not in use; nil when they are
}

// certState is one certificate of a definition; tokens fetched while it
// was presented are bound to it.
type certState struct {
	cert *tls.Certificate
	x5t  string // hex SHA-256 of the leaf (RFC 8705's x5t#S256, unencoded)
}

// thumbprint is st's x5t, "" for nil.
func (st *certState) thumbprint() string {
	if st == nil {
		return ""
	}
	return st.x5t
}

// newClientCerts returns cfg's certificate, or nil when it has none. The
// files are read once here: an error names the field and the files, never
// what they hold.
func newClientCerts(cfg Config, now func() time.Time, log *slog.Logger) (*clientCerts, error) {
	bad := func(reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: "cert_file", Reason: reason}
	}
	switch {
	case (cfg.CertFile == "") != (cfg.KeyFile == ""):
		return nil, bad("cert_file and key_file go together")
	case cfg.CertFile != "" && cfg.Certificate != nil:
		return nil, bad("give Certificate or CertFile and KeyFile, not both")
	case cfg.Certificate != nil:
		c := &clientCerts{name: cfg.Name}
		c.cur.Store(&certState{cert: cfg.Certificate, x5t: certThumbprint(cfg.Certificate)})
		return c, nil
	case cfg.CertFile == "":
		return nil, nil
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &clientCerts{name: cfg.Name, certFile: cfg.CertFile, keyFile: cfg.KeyFile, now: now, log: log}
	seen, err := c.stat()
	if err != nil {
		return nil, bad(err.Error())
	}
	st, err := c.load()
	if err != nil {
		return nil, bad(err.Error())
	}
	c.seen = seen
	c.cur.Store(st)
	c.nextLook.Store(now().Add(certCheckEvery).UnixNano())
	return c, nil
}

// current is the certificate presented now.
func (c *clientCerts) current() *certState { return c.cur.Load() }

// onRotate calls f with the new certificate after each rotation.
func (c *clientCerts) onRotate(f func(*certState)) {
	c.mu.Lock()
	c.rotated = append(c.rotated, f)
	c.mu.Unlock()
}

// check looks at the files when the last look is certCheckEvery old, and
// rotates to the pair on disk when it changed and loads; the certificate
// presented is then the new one. It reads nothing otherwise: one clock
// read and an atomic load.
func (c *clientCerts) check() {
	if c == nil || c.certFile == "" {
		return
	}
	now := c.now().UnixNano()
	next := c.nextLook.Load()
	if now < next || !c.nextLook.CompareAndSwap(next, now+int64(certCheckEvery)) {
		return
	}
	c.mu.Lock()
	st, fs := c.look()
	c.mu.Unlock()
	for _, f := range fs {
		f(st)
	}
}

// look (under c.mu) reads the files when they changed since last read,
// and returns the new certificate and who to tell, if it rotated.
func (c *clientCerts) look() (*certState, []func(*certState)) {
	seen, err := c.stat()
	if err != nil {
		c.failed(err)
		return nil, nil
	}
	if sameFile(seen[0], c.seen[0]) && sameFile(seen[1], c.seen[1]) {
		return nil, nil
	}
	c.seen = seen // a pair that does not load is read again only once it changes
	st, err := c.load()
	if err != nil {
		c.failed(err)
		return nil, nil
	}
	c.problem.Store(nil)
	if st.x5t == c.cur.Load().x5t {
		return nil, nil
	}
	c.cur.Store(st)
	c.log.Info("oauthclient: client certificate rotated", slog.String("definition", c.name), slog.String("cert_file", c.certFile),
		slog.String("x5t#S256", st.x5t), slog.Time("not_after", st.cert.Leaf.NotAfter))
	return st, c.rotated
}

// failed notes why the files on disk are not in use (the previous
// certificate still is).
func (c *clientCerts) failed(err error) {
	msg := err.Error()
	c.problem.Store(&msg)
	c.log.Warn("oauthclient: client certificate files not loaded; the previous certificate stays in use",
		slog.String("definition", c.name), slog.String("error", msg))
}

// stat returns what the two files are now (symlinks followed).
func (c *clientCerts) stat() ([2]os.FileInfo, error) {
	var out [2]os.FileInfo
	for i, p := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return out, fmt.Errorf("cannot read %s: %v", p, tlsconf.PathCause(err))
		}
		out[i] = fi
	}
	return out, nil
}

// load reads and parses the pair.
func (c *clientCerts) load() (*certState, error) {
	cert, err := tlsconf.KeyPair(c.certFile, c.keyFile, files.Read)
	if err != nil {
		return nil, err
	}
	if cert.Leaf == nil || len(cert.Certificate) == 0 {
		return nil, errors.New(c.certFile + " holds no certificate")
	}
	return &certState{cert: cert, x5t: certThumbprint(cert)}, nil
}

// sameFile reports whether a and b are one file, unchanged.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// certThumbprint is the hex SHA-256 of cert's leaf (RFC 8705's x5t#S256,
// unencoded); "" without a certificate.
func certThumbprint(cert *tls.Certificate) string {
	if cert == nil || len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	return hex.EncodeToString(sum[:])
}

// certKey carries, in a token request's context, the certificate it is
// made with.
type certKey struct{}

// certConns gives each certificate of a definition its own *http.Transport,
// a clone of one template, so that a connection presents the certificate
// of the token sent over it (connections are pooled per transport, and
// one made with the previous certificate is never reused for a token bound
// to the next). The certificate is always presented, whatever CAs the
// server names: Go's default choice would withhold a self-signed one
// (RFC 8705 §2.2).
type certConns struct {
	certs *clientCerts
	tmpl  *http.Transport
	mu    sync.Mutex                      // one clone at a time
	list  atomic.Pointer[[]certConnsItem] // newest first, at most keptCertConns
}

type certConnsItem struct {
	st *certState
	t  *http.Transport
}

// keptCertConns is how many certificates keep their transport (the
// current one and those of tokens that may still be in flight).
const keptCertConns = 3

// newCertConns wraps tmpl (cloned, never used itself).
// certIdleTimeout closes the idle connections of a certificate's transport
// when its template sets no bound (http.DefaultTransport's own).
const certIdleTimeout = 90 * time.Second

func newCertConns(certs *clientCerts, tmpl *http.Transport) *certConns {
	t := tmpl.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if t.IdleConnTimeout <= 0 {
		// A clone left behind by a rotation (see forCert) is referenced by
		// nobody: its idle connections must end on their own.
		t.IdleConnTimeout = certIdleTimeout
	}
	return &certConns{certs: certs, tmpl: t}
}

// RoundTrip sends req over the transport of the certificate its context
// names, else of the current one.
func (p *certConns) RoundTrip(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(certKey{}).(*certState)
	return p.forCert(st).RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of every certificate.
func (p *certConns) CloseIdleConnections() {
	if l := p.list.Load(); l != nil {
		for _, e := range *l {
			e.t.CloseIdleConnections()
		}
	}
}

// forCert returns st's transport (the current certificate's when st is
// nil), cloning the template on first use.
func (p *certConns) forCert(st *certState) *http.Transport {
	if st == nil {
		st = p.certs.current()
	}
	if l := p.list.Load(); l != nil {
		for _, e := range *l {
			if e.st == st {
				return e.t
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var old []certConnsItem
	if l := p.list.Load(); l != nil {
		old = *l
		for _, e := range old {
			if e.st == st {
				return e.t
			}
		}
	}
	t := p.tmpl.Clone()
	t.TLSClientConfig.Certificates = nil
	certs := p.certs
	t.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		certs.check() // a new connection: the moment to notice a rotation
		return st.cert, nil
	}
	list := append([]certConnsItem{{st, t}}, old...)
	for _, e := range list[min(len(list), keptCertConns):] {
		e.t.CloseIdleConnections()
	}
	list = list[:min(len(list), keptCertConns)]
	p.list.Store(&list)
	return t
}

// withCert is ctx naming the certificate a token request is made with.
func withCert(ctx context.Context, st *certState) context.Context {
	if st == nil {
		return ctx
	}
	return context.WithValue(ctx, certKey{}, st)
}
