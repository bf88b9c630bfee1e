package rest

import (
	"fmt"
	"io"
	"time"

	"github.com/tokenwire/tokenwire/cache/redis"
)

// Config is a parsed configuration file: security definitions and the
// connections that use them. See the package documentation for the format.
// After [ParseConfig] or [LoadConfig], every ${VAR} and file: reference is
// resolved and the whole file has been validated.
type Config struct {
	Security map[string]SecurityConfig `yaml:"security"`
	REST     map[string]ConnConfig     `yaml:"rest"`
	FHIR     map[string]FHIRConfig     `yaml:"fhir"`
	Store    StoreConfig               `yaml:"store"`
}

// Security definition types.
const (
	TypeOAuth2 = "oauth2" // client credentials, tokens from oauthclient
	TypeBasic  = "basic"
	TypeAPIKey = "apikey"
	TypeBearer = "bearer"
	TypeNone   = "none"
)

// SecurityConfig is one security definition. Which fields apply depends on
// Type; a field set for another type is reported as a problem.
type SecurityConfig struct {
	Type string `yaml:"type"` // oauth2, basic, apikey, bearer or none

	// oauth2 (client credentials); see oauthclient.Config.
	TokenURL          string            `yaml:"token_url"`
	ClientID          string            `yaml:"client_id"`
	ClientSecret      Secret            `yaml:"client_secret"`
	Scopes            []string          `yaml:"scopes"`
	Audience          string            `yaml:"audience"`
	Resources         []string          `yaml:"resources"`
	Params            map[string]Secret `yaml:"params"` // extra form fields; may come from ${VAR}, so printed redacted
	AuthMethod        string            `yaml:"auth_method"`
	PrivateKey        Secret            `yaml:"private_key"` // PEM, usually file:/path
	KeyID             string            `yaml:"key_id"`
	SigningAlg        string            `yaml:"signing_alg"`
	AssertionAudience string            `yaml:"assertion_audience"`
	AssertionLifetime time.Duration     `yaml:"assertion_lifetime"`
	CertFile          string            `yaml:"cert_file"` // tls_client_auth certificate (PEM)
	KeyFile           string            `yaml:"key_file"`  // and its key
	CAFile            string            `yaml:"ca_file"`   // roots for the token endpoint
	Timeout           time.Duration     `yaml:"timeout"`
	DefaultLifetime   time.Duration     `yaml:"default_lifetime"`

	// basic
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`

	// apikey
	In    string `yaml:"in"`   // header (default) or query
	Name  string `yaml:"name"` // header or parameter name
	Value Secret `yaml:"value"`

	// bearer
	Token Secret `yaml:"token"`
}

// FHIRConfig is a FHIR connection: the connection settings plus SMART
// discovery. The fhir package builds it; rest only parses and validates it.
type FHIRConfig struct {
	ConnConfig `yaml:",inline"`
	SMART      bool `yaml:"smart"` // discover endpoints from .well-known/smart-configuration
}

// StoreConfig selects the token store shared by the OAuth definitions: at
// most one of Memory and Redis. Neither: each source keeps its own token.
type StoreConfig struct {
	Memory *MemoryStoreConfig `yaml:"memory"`
	Redis  *redis.Config      `yaml:"redis"`
}

// MemoryStoreConfig sizes the in-process store.
type MemoryStoreConfig struct {
	Size int `yaml:"size"` // entries; default cache.DefaultSize
}

// Secret is a configuration value that must never be printed: every
// fmt verb, JSON and YAML show it as "[redacted]" (or "" when empty). The
// value itself is [Secret.Reveal].
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return s.String() }

// Format prints [Secret.String] whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalText makes encoders (JSON, YAML) write the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML writes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalText keeps decoders reading the plain value (MarshalText would
// otherwise make encoding/json expect the redacted form back).
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }
