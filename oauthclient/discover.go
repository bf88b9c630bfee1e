package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// discoveryTTL is how long a token endpoint read from a discovery document
// ([Config.DiscoveryURL]) is used before the document is read again.
const discoveryTTL = time.Hour

// discoveryRetry is how soon a document that failed to be read again is
// tried once more, while the endpoint found before keeps serving.
const discoveryRetry = time.Minute

// document is what a discovery document says about the token endpoint: the
// members SMART configurations, RFC 8414 metadata and OpenID configurations
// share.
type document struct {
	Issuer        string   `json:"issuer"`
	TokenEndpoint string   `json:"token_endpoint"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	SigningAlgs   []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	// MTLSAliases are the endpoints a client authenticating with a TLS
	// client certificate uses instead (RFC 8705 §5).
	MTLSAliases struct {
		TokenEndpoint string `json:"token_endpoint"`
	} `json:"mtls_endpoint_aliases"`
}

// discovery finds a definition's token endpoint in its discovery document
// and keeps it for discoveryTTL; when reading it again fails, the endpoint
// found before keeps serving. It is only called from the source's one
// shared fetch; the mutex keeps it safe for any other caller too.
type discovery struct {
	cfg      Config
	hc       *http.Client
	now      func() time.Time
	insecure bool
	alg      string // the signing algorithm of the client assertion, if any
	log      *slog.Logger
	urls     []string // the documents to try, in order (a 404 tries the next)
	issuer   string   // the issuer the document must name, if any

	mu       sync.Mutex
	endpoint string
	expires  time.Time
}

func newDiscovery(cfg Config, auth clientAuth, hc *http.Client, opts Options) *discovery {
	d := &discovery{cfg: cfg, hc: hc, now: opts.Now, insecure: opts.AllowInsecureHTTP, log: opts.Logger, urls: []string{cfg.DiscoveryURL}}
	if cfg.DiscoveryURL == "" { // from the issuer's metadata
		d.urls, d.issuer = wellKnown(cfg.Issuer), strings.TrimSuffix(cfg.Issuer, "/")
	}
	if cfg.DiscoveryClient != nil {
		d.hc = &http.Client{}
		*d.hc = *cfg.DiscoveryClient
		d.hc.CheckRedirect = noRedirect
	}
	if a, ok := auth.(*jwtAuth); ok {
		d.alg = a.method.Alg()
	}
	return d
}

// tokenURL returns the discovered token endpoint, reading the document
// when it is not known or older than discoveryTTL. Failures are not kept.
func (d *discovery) tokenURL(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.endpoint != "" && d.now().Before(d.expires) {
		return d.endpoint, nil
	}
	doc, err := d.read(ctx)
	if err != nil {
		err = fmt.Errorf("security definition %q: discovery: %w", d.cfg.Name, err)
		if d.endpoint != "" { // stale if error: the endpoint known keeps serving; read again later
			d.expires = d.now().Add(discoveryRetry)
			d.log.Warn("oauthclient: discovery failed; using the token endpoint found before", slog.String("definition", d.cfg.Name), slog.String("error", err.Error()))
			return d.endpoint, nil
		}
		return "", err
	}
	method := string(d.cfg.authMethod())
	if a := doc.MTLSAliases.TokenEndpoint; a != "" && (method == string(AuthTLSClientAuth) || method == string(AuthSelfSignedTLS)) {
		doc.TokenEndpoint = a
	}
	if err := d.cfg.checkURL("token_endpoint", doc.TokenEndpoint, d.insecure); err != nil {
		return "", err
	}
	if len(doc.AuthMethods) > 0 && !slices.Contains(doc.AuthMethods, method) {
		return "", fmt.Errorf("security definition %q: the token endpoint does not accept %s (it lists %v)", d.cfg.Name, method, doc.AuthMethods)
	}
	if d.alg != "" && len(doc.SigningAlgs) > 0 && !slices.Contains(doc.SigningAlgs, d.alg) {
		return "", fmt.Errorf("security definition %q: the token endpoint does not accept %s assertions (it lists %v)", d.cfg.Name, d.alg, doc.SigningAlgs)
	}
	d.endpoint, d.expires = doc.TokenEndpoint, d.now().Add(discoveryTTL)
	return d.endpoint, nil
}

// read fetches the first document of d.urls that exists.
func (d *discovery) read(ctx context.Context) (*document, error) {
	var err error
	for _, u := range d.urls {
		var doc *document
		doc, err = d.readOne(ctx, u)
		if err == nil {
			return doc, nil
		}
		err = fmt.Errorf("%s: %w", redact.URLString(u, nil), err)
		if !errors.Is(err, errNoDocument) {
			break
		}
	}
	return nil, err
}

var errNoDocument = errors.New("status 404")

func (d *discovery) readOne(ctx context.Context, u string) (*document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, redact.URLCause(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNoDocument
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("not a JSON document")
	}
	if doc.TokenEndpoint == "" {
		return nil, errors.New("no token_endpoint")
	}
	if d.issuer != "" && strings.TrimSuffix(doc.Issuer, "/") != d.issuer {
		return nil, errors.New("the document is another issuer's (its issuer member differs)")
	}
	return &doc, nil
}

// wellKnown lists the metadata documents of an issuer: RFC 8414's, with
// the well-known segment between host and path, then OpenID's.
func wellKnown(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	path := strings.TrimSuffix(u.Path, "/")
	rfc := url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/.well-known/oauth-authorization-server" + path}
	return []string{rfc.String(), strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"}
}
