package backends

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// Config is a parsed configuration file: security definitions, the REST
// and FHIR connections that use them, and the token store. See the package
// documentation for the format. After [Parse] or [Load], every
// ${VAR} and file: reference is resolved and the whole file has been
// validated; [Open] builds it. A Config built in code is validated by Open.
// Printed, logged or marshalled, a Config shows no secret: every secret
// field is an oauthclient.Secret.
type Config struct {
	Security map[string]SecurityConfig `yaml:"security" json:"security,omitempty"`
	REST     map[string]ConnConfig     `yaml:"rest" json:"rest,omitempty"`
	FHIR     map[string]FHIRConfig     `yaml:"fhir" json:"fhir,omitempty"`
	Store    StoreConfig               `yaml:"store" json:"store"`

	opts []rest.Option // given to the loader, applied by Open before its own
}

// Security definition types.
const (
	typeOAuth2 = "oauth2" // client credentials, tokens from oauthclient
	typeBasic  = "basic"
	typeAPIKey = "apikey"
	typeBearer = "bearer"
	typeNone   = "none"
)

// SecurityConfig is one security definition. Which fields apply depends on
// Type; a field set for another type is reported as a problem.
type SecurityConfig struct {
	Type string `yaml:"type" json:"type"` // oauth2, login, basic, apikey, bearer or none

	// oauth2 (client credentials); see oauthclient.Config.
	TokenURL          string                        `yaml:"token_url" json:"token_url,omitempty" use:"oauth2 login"`
	Issuer            string                        `yaml:"issuer" json:"issuer,omitempty" use:"oauth2"` // instead of token_url: discovered (RFC 8414, OpenID)
	ClientID          string                        `yaml:"client_id" json:"client_id,omitempty" use:"oauth2 login"`
	ClientSecret      oauthclient.Secret            `yaml:"client_secret" json:"client_secret,omitempty" use:"oauth2 login"`
	Scopes            []string                      `yaml:"scopes" json:"scopes,omitempty" use:"oauth2"`
	Audience          string                        `yaml:"audience" json:"audience,omitempty" use:"oauth2"`
	Resources         []string                      `yaml:"resources" json:"resources,omitempty" use:"oauth2"`
	Params            map[string]oauthclient.Secret `yaml:"params" json:"params,omitempty" use:"oauth2"` // extra form fields; may come from ${VAR}, so printed redacted
	AuthMethod        string                        `yaml:"auth_method" json:"auth_method,omitempty" use:"oauth2 login"`
	PrivateKey        oauthclient.Secret            `yaml:"private_key" json:"private_key,omitempty" use:"oauth2"` // PEM, usually file:/path
	KeyID             string                        `yaml:"key_id" json:"key_id,omitempty" use:"oauth2"`
	SigningAlg        string                        `yaml:"signing_alg" json:"signing_alg,omitempty" use:"oauth2"`
	AssertionAudience string                        `yaml:"assertion_audience" json:"assertion_audience,omitempty" use:"oauth2"`
	AssertionLifetime time.Duration                 `yaml:"assertion_lifetime" json:"assertion_lifetime,omitempty" use:"oauth2"`
	CertFile          string                        `yaml:"cert_file" json:"cert_file,omitempty" use:"oauth2 login"` // tls_client_auth certificate (PEM)
	KeyFile           string                        `yaml:"key_file" json:"key_file,omitempty" use:"oauth2 login"`   // and its key
	CAFile            string                        `yaml:"ca_file" json:"ca_file,omitempty" use:"oauth2 login"`     // roots for the token endpoint
	Timeout           time.Duration                 `yaml:"timeout" json:"timeout,omitempty" use:"oauth2 login"`
	DefaultLifetime   time.Duration                 `yaml:"default_lifetime" json:"default_lifetime,omitempty" use:"oauth2 login bearer"`
	DPoP              bool                          `yaml:"dpop" json:"dpop,omitempty" use:"oauth2"`         // sender-constrained tokens (RFC 9449)
	DPoPKey           oauthclient.Secret            `yaml:"dpop_key" json:"dpop_key,omitempty" use:"oauth2"` // PEM, usually file:/path; default: generated in memory
	DPoPAlg           string                        `yaml:"dpop_alg" json:"dpop_alg,omitempty" use:"oauth2"` // ES256 (default), ES384, RS256, PS256

	// basic
	Username string             `yaml:"username" json:"username,omitempty" use:"basic"`
	Password oauthclient.Secret `yaml:"password" json:"password,omitempty" use:"basic"`

	// apikey
	In    string             `yaml:"in" json:"in,omitempty" use:"apikey"`     // header (default) or query
	Name  string             `yaml:"name" json:"name,omitempty" use:"apikey"` // header or parameter name
	Value oauthclient.Secret `yaml:"value" json:"value,omitempty" use:"apikey"`

	// bearer
	Token oauthclient.Secret `yaml:"token" json:"token,omitempty" use:"bearer"`

	// The grants beyond client credentials, login endpoints and
	// imported bearer tokens.
	GrantConfig `yaml:",inline"`
}

// ConnConfig is a connection of the file: the settings of rest.ConnConfig
// (how it speaks to its backend) and how the readiness check counts it.
type ConnConfig struct {
	rest.ConnConfig `yaml:",inline"`
	// Readiness is how [Registry.Check] and [HealthHandler] count this
	// connection: "required" (the default: its token and its ping must
	// succeed), "optional" (checked and reported, never makes the service
	// unready) or "token_only" (its definition's token must be obtainable;
	// the backend is not pinged). See the package documentation,
	// "Readiness".
	Readiness string `yaml:"readiness" json:"readiness,omitempty"`
}

// FHIRConfig is a FHIR connection: the settings of any connection plus
// SMART discovery. The registry speaks FHIR over it ([Registry.FHIR]).
type FHIRConfig struct {
	ConnConfig `yaml:",inline"`
	// SMART completes an oauth2 definition without token_url as SMART
	// Backend Services (oauthclient.SMARTBackendServices): the token
	// endpoint is read from <base_url>/.well-known/smart-configuration.
	SMART bool `yaml:"smart" json:"smart,omitempty"`
}

// StoreConfig selects the token store shared by the OAuth definitions: at
// most one of Memory and the section of a store kept in another package
// (Shared). Neither: each source keeps its own token.
type StoreConfig struct {
	Memory *MemoryStoreConfig `yaml:"memory" json:"memory,omitempty"`
	// Shared is the section of a store kept in another package, given to
	// the loader with [WithStoreSection] (for example *redis.Config under
	// "redis").
	Shared cache.Config `yaml:"-" json:"-"`
	// SharedName is the key Shared was written under ("redis").
	SharedName string `yaml:"-" json:"-"`
}

// MarshalJSON writes the section as the file has it: memory, or the shared
// store's section under its name (its secrets redacted by their type).
func (sc StoreConfig) MarshalJSON() ([]byte, error) { return json.Marshal(sc.asMap()) }

// MarshalYAML writes the section like MarshalJSON.
func (sc StoreConfig) MarshalYAML() (any, error) { return sc.asMap(), nil }

func (sc StoreConfig) asMap() map[string]any {
	m := map[string]any{}
	if sc.Memory != nil {
		m["memory"] = sc.Memory
	}
	if sc.Shared != nil {
		m[sc.SharedName] = sc.Shared
	}
	return m
}

// MemoryStoreConfig sizes the in-process store.
type MemoryStoreConfig struct {
	Size int `yaml:"size" json:"size"` // entries; default 1024
}

// Format prints the configuration with its secrets redacted, whatever the
// verb (a secret field prints as "[redacted]" on its own, but fmt skips the
// fields' own formatting when a verb does not fit a struct).
func (c Config) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "backends.Config{Security:%v REST:%v FHIR:%v Store:%v}", c.Security, c.REST, c.FHIR, c.Store)
}

// plainSecurity is SecurityConfig without its methods, for Format.
type plainSecurity SecurityConfig

// Format prints the definition with its secrets redacted, whatever the verb.
func (sc SecurityConfig) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "%+v", plainSecurity(sc)) }

// plainStore is StoreConfig without its methods, for Format.
type plainStore StoreConfig

// Format prints the store section with its secrets redacted, whatever the
// verb.
func (sc StoreConfig) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "%+v", plainStore(sc)) }
