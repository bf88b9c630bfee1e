package oauthclient

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"time"
)

// tokenTypeAccessToken is the token type identifier of an access token
// (RFC 8693 §3), the default of [TokenExchange]'s token types.
const tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"

// TokenExchange is the token exchange grant (RFC 8693): a token the
// service holds — its own identity from another definition
// ([Registry.Supplier], [SourceSupplier]), a workload token on disk
// ([FileSupplier]) — is exchanged for one the backend accepts. The
// definition's Audience, Resources and Scopes are the exchange's audience,
// resource and scope parameters; it authenticates as client credentials
// does (with no AuthMethod: client_secret_basic when it has a
// ClientSecret, none otherwise).
//
// The subject token (and actor token) are read at each fetch. The cache
// key holds a hash of each — never the value — so two subjects never share
// an exchanged token, in one process or through the shared store; and an
// exchanged token is never kept past its subject token's expiry when that
// is known (the supplier's, else the JWT's exp). A subject token that has
// already expired is refused before it is sent. A [Source] serves one
// subject at a time: the one its supplier yields at its latest fetch.
type TokenExchange struct {
	SubjectToken Supplier `json:"subject_token,omitempty" yaml:"subject_token,omitempty"` // required
	// The token types are URNs, or their short names: access_token,
	// refresh_token, id_token, jwt, saml1, saml2.
	SubjectTokenType   string   `json:"subject_token_type,omitempty" yaml:"subject_token_type"`     // default access_token
	ActorToken         Supplier `json:"actor_token,omitempty" yaml:"actor_token,omitempty"`         // optional: who acts on the subject's behalf
	ActorTokenType     string   `json:"actor_token_type,omitempty" yaml:"actor_token_type"`         // default access_token when ActorToken is set
	RequestedTokenType string   `json:"requested_token_type,omitempty" yaml:"requested_token_type"` // optional, e.g. jwt
}

func (TokenExchange) grantKind() string { return grantTokenExchange }

type exchangeGrant struct {
	def                   string
	g                     TokenExchange
	subjectType, actorTyp string
	now                   func() time.Time
}

func newTokenExchange(cfg Config, g TokenExchange, now func() time.Time) (endpointGrant, error) {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	if g.SubjectToken == nil {
		return nil, bad("subject_token", "missing: the token to exchange")
	}
	if g.ActorToken == nil && g.ActorTokenType != "" {
		return nil, bad("actor_token_type", "given without actor_token")
	}
	g.RequestedTokenType = tokenTypeURN(g.RequestedTokenType)
	e := &exchangeGrant{def: cfg.Name, g: g, subjectType: cmp.Or(tokenTypeURN(g.SubjectTokenType), tokenTypeAccessToken), now: now}
	if g.ActorToken != nil {
		e.actorTyp = cmp.Or(tokenTypeURN(g.ActorTokenType), tokenTypeAccessToken)
	}
	return e, nil
}

// tokenTypeURN is the URN of a token type given by its short name
// (access_token, refresh_token, id_token, jwt, saml1, saml2); any other
// value as it is.
func tokenTypeURN(t string) string {
	switch t {
	case "access_token", "refresh_token", "id_token", "jwt", "saml1", "saml2":
		return "urn:ietf:params:oauth:token-type:" + t
	}
	return t
}

func (e *exchangeGrant) kind() string { return grantTokenExchange }

func (e *exchangeGrant) identity() []string {
	return []string{e.subjectType, e.actorTyp, e.g.RequestedTokenType}
}

func (e *exchangeGrant) prepare(ctx context.Context) (*prepared, error) {
	subject, exp, err := supply(ctx, e.def, "subject token", e.g.SubjectToken)
	if err != nil {
		return nil, err
	}
	if exp.IsZero() {
		exp = jwtExpiry(subject)
	}
	if !exp.IsZero() && !e.now().Before(exp) {
		return nil, fmt.Errorf("security definition %q: subject token: expired at %s", e.def, exp.UTC().Format(time.RFC3339))
	}
	form := url.Values{"grant_type": {grantType[grantTokenExchange]}, "subject_token": {subject}, "subject_token_type": {e.subjectType}}
	p := &prepared{form: form, notAfter: exp, parts: []string{hashed(subject), ""}, secrets: []string{subject}}
	if e.g.ActorToken != nil {
		actor, _, err := supply(ctx, e.def, "actor token", e.g.ActorToken)
		if err != nil {
			return nil, err
		}
		form.Set("actor_token", actor)
		form.Set("actor_token_type", e.actorTyp)
		p.parts[1] = hashed(actor)
		p.secrets = append(p.secrets, actor)
	}
	if e.g.RequestedTokenType != "" {
		form.Set("requested_token_type", e.g.RequestedTokenType)
	}
	return p, nil
}
