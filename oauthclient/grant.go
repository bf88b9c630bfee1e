package oauthclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// Grant is how a definition obtains its tokens when it does not use the
// client-credentials grant (a nil [Config.Grant]). Token endpoint grants
// — [JWTBearer] (RFC 7523 §2.1), [TokenExchange] (RFC 8693) and
// [RefreshToken] (RFC 6749 §6) — send their request with the definition's
// client authentication, DPoP and discovery, as client credentials does;
// [Login] asks a vendor's login endpoint that is not OAuth, and [Imported]
// re-reads a token issued elsewhere. Every grant gets the same [Source]:
// cached, renewed in the background, one fetch at a time, backoff, the
// shared store and its fleet lock, typed errors and redaction; the hot path
// is the same atomic load for all of them.
//
// The grant types print their kind and never a credential, whatever the
// verb, in slog, JSON and YAML.
type Grant interface {
	grantKind() string
}

// The grants a source reports (telemetry's tokenwire.grant, the status
// snapshot's Grant), besides client_credentials and custom.
const (
	grantJWTBearer     = "jwt_bearer"
	grantTokenExchange = "token_exchange"
	grantRefreshToken  = "refresh_token"
	grantLogin         = "login"
	grantImported      = "imported"
	grantAuthCode      = "authorization_code"
)

// grantType is the grant_type of each token endpoint grant.
var grantType = map[string]string{
	grantClientCredentials: "client_credentials",
	grantJWTBearer:         "urn:ietf:params:oauth:grant-type:jwt-bearer",
	grantTokenExchange:     "urn:ietf:params:oauth:grant-type:token-exchange",
	grantRefreshToken:      "refresh_token",
	grantAuthCode:          "authorization_code",
}

// endpointGrant is a grant whose tokens come from an OAuth token endpoint.
type endpointGrant interface {
	kind() string
	// identity lists what, besides the definition's client and request
	// parameters, distinguishes its tokens for the cache key and is known
	// at construction (a signed assertion's issuer and subject).
	identity() []string
	// prepare reads what one fetch needs before the store is asked: a
	// supplied assertion, a subject token, a refresh token's family.
	prepare(ctx context.Context) (*prepared, error)
}

// statefulGrant is an endpoint grant that keeps state across its requests
// (the refresh token): its requests are made through wrap, under the
// family's lock — in the process and, with a store that locks, in the
// fleet — and never without it.
type statefulGrant interface {
	endpointGrant
	// lock takes the lock of key's family in the process.
	lock(ctx context.Context, key string) (unlock func(), err error)
	// close releases what the grant holds (its families, its goroutines).
	close()
	wrap(ctx context.Context, p *prepared, send func(context.Context, *prepared) (*Token, error)) (*Token, error)
}

// prepared is what one fetch read before it looked in the store, and what
// its token request then carries.
type prepared struct {
	form url.Values // the grant's own fields
	// parts tell the token apart beyond the definition (hashes of the
	// subject token, of a refresh token family's first token…); key is
	// the definition's identity with them, set by the source.
	parts []string
	key   string
	// family names the refresh token family a stateful grant's request
	// uses: its records and the locks its requests take.
	family string
	// notAfter bounds the token's expiry (the subject token's); zero for
	// no bound.
	notAfter time.Time
	secrets  []string // never echoed: the assertion, the subject token…
	// wrote, when set, is told that a token request was written to the
	// server whole (a refresh token that left cannot be taken back).
	wrote *atomic.Bool
	// fence is when the store's lock the request is made under expires,
	// in real time; zero without one.
	fence time.Time
	cert  *certState // the client certificate the request is made with; nil without one
	state string     // the grant's own (a refresh token family's first token)
	// sign, when set, adds what is made anew for each request (a signed
	// assertion, whose audience may be the token endpoint), and returns
	// what it added that is secret.
	sign func(tokenURL string, form url.Values) (secret string, err error)
}

// stateful returns f's grant when it keeps state, whose requests must
// never overlap, in the process or in the fleet.
func stateful(f Fetcher) statefulGrant {
	te, ok := f.(*tokenEndpoint)
	if !ok {
		return nil
	}
	sg, _ := te.grant.(statefulGrant)
	return sg
}

// hashed is the hex SHA-256 of v: how a credential enters a cache key.
func hashed(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// clientCredentialsGrant is RFC 6749 §4.4, the default.
type clientCredentialsGrant struct{}

func (clientCredentialsGrant) kind() string       { return grantClientCredentials }
func (clientCredentialsGrant) identity() []string { return nil }
func (clientCredentialsGrant) prepare(context.Context) (*prepared, error) {
	return &prepared{form: url.Values{"grant_type": {"client_credentials"}}}, nil
}

// newEndpointGrant builds the grant of cfg for the token endpoint,
// validating its fields.
func newEndpointGrant(cfg Config, opts Options) (endpointGrant, error) {
	switch g := deref(cfg.Grant).(type) {
	case nil:
		return clientCredentialsGrant{}, nil
	case JWTBearer:
		return newJWTBearer(cfg, g, opts.Now)
	case TokenExchange:
		return newTokenExchange(cfg, g, opts.withDefaults().Now)
	case RefreshToken:
		return newRefreshGrant(cfg, g, opts)
	case authCodeGrant:
		return g, nil
	}
	return nil, &ConfigError{Definition: cfg.Name, Field: "grant", Reason: fmt.Sprintf("unsupported grant %T", cfg.Grant)}
}

// deref turns a grant given by pointer into its value, so that both
// spellings work.
func deref(g Grant) Grant {
	switch p := g.(type) {
	case *JWTBearer:
		if p != nil {
			return *p
		}
	case *TokenExchange:
		if p != nil {
			return *p
		}
	case *RefreshToken:
		if p != nil {
			return *p
		}
	case *Login:
		if p != nil {
			return *p
		}
	case *Imported:
		if p != nil {
			return *p
		}
	default:
		return g
	}
	return nil
}

// grantName is the kind a source with cfg's grant reports.
func grantName(g Grant) string {
	if g = deref(g); g == nil {
		return grantClientCredentials
	}
	return g.grantKind()
}

// described is what a grant type prints: its kind and the names (never
// the values) of what it is given.
type described string

func (d described) format(f fmt.State)           { redact.Format(f, string(d)) }
func (d described) logValue() slog.Value         { return slog.StringValue(string(d)) }
func (d described) marshalJSON() ([]byte, error) { return json.Marshal(string(d)) }
