package backends

import (
	"github.com/tokenwire/tokenwire/internal/settings"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// Config is a parsed configuration file: security definitions, the REST
// and FHIR connections that use them, and the token store. See the package
// documentation for the format. After [Parse] or [Load], every
// ${VAR} and file: reference is resolved and the whole file has been
// validated; [Open] builds it. A Config built in code is validated by Open.
// Printed, logged or marshalled, a Config shows no secret: every secret
// field is an oauthclient.Secret, which prints redacted on its own.
// Marshalled (MarshalYAML, MarshalJSON), it is written as the file writes
// it; one from Load or Parse loads again to the same configuration once
// its secrets, each shown as [redacted], are written back (the loader
// refuses that mark where a secret goes). A supplier built in code
// (oauthclient.FileSupplier…) prints as its String, which does not load.
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
//
// An oauth2 or login definition, or an imported bearer token, is an
// [oauthclient.Config]: its keys (token_url, client_id, scopes…) are that
// type's fields, documented there, and so are those of its grant
// (oauthclient.JWTBearer, TokenExchange, RefreshToken, Login, Imported),
// which the file writes beside them: Config.Grant is set by grant: (and by
// type: login, or a bearer token with token_from or expires_at). The
// fields below are the ones that are not OAuth's. ([Parse] and [Open]
// check the whole definition, certificate files and references included;
// the Validate method it gets from oauthclient.Config sees only the OAuth
// fields.)
type SecurityConfig struct {
	Type string `yaml:"type" json:"type" use:"any"` // oauth2, login, basic, apikey, bearer or none

	oauthclient.Config `yaml:",inline" use:"oauth2"`

	// The roots that verify the token endpoint, a PEM file read when the
	// file is loaded (oauthclient.Config.RootCAs). The client certificate
	// and its key are oauthclient.Config's cert_file and key_file.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty" use:"oauth2 login"`

	// basic
	Username string             `yaml:"username" json:"username,omitempty" use:"basic"`
	Password oauthclient.Secret `yaml:"password" json:"password,omitempty" use:"basic"`

	// apikey
	In    string             `yaml:"in" json:"in,omitempty" use:"apikey"`     // header (default) or query
	Name  string             `yaml:"name" json:"name,omitempty" use:"apikey"` // header or parameter name
	Value oauthclient.Secret `yaml:"value" json:"value,omitempty" use:"apikey"`

	// bearer: a fixed token, or the first value of an imported one
	// (oauthclient.Imported) when token_from is not given.
	Token oauthclient.Secret `yaml:"token" json:"token,omitempty" use:"bearer"`
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
	// "redis"): a pointer to a struct with the Check and Open methods that
	// WithStoreSection describes.
	Shared any `yaml:"-" json:"-"`
	// SharedName is the key Shared was written under ("redis").
	SharedName string `yaml:"-" json:"-"`
}

// section returns Shared as a store section, if it is one.
func (sc StoreConfig) section() (settings.StoreSection, bool) {
	s, ok := sc.Shared.(settings.StoreSection)
	return s, ok
}

// MemoryStoreConfig sizes the in-process store.
type MemoryStoreConfig struct {
	Size int `yaml:"size" json:"size"` // entries; default 1024
}
