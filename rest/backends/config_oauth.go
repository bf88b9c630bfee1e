package backends

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokenwire/tokenwire/internal/tlsconf"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// supplierSection is a supplier as the file writes it (see
// oauthclient.Supplier): exactly one of a file read anew each time (a
// projected service-account token), a command run each time (its standard
// output; the arguments never print), a fixed value (${VAR} or file:,
// read at load time), or, for subject_token and actor_token, another
// security definition's access token. It supplies through the oauthclient
// supplier it describes; [Open] binds a definition to the registry.
type supplierSection struct {
	File       string               `yaml:"file" json:"file,omitempty"`
	Command    []oauthclient.Secret `yaml:"command" json:"command,omitempty"`
	Value      oauthclient.Secret   `yaml:"value" json:"value,omitempty"`
	Definition string               `yaml:"definition" json:"definition,omitempty"`
}

// Supply asks the supplier s describes; another definition's token is not
// bound here (see bind).
func (s *supplierSection) Supply(ctx context.Context) (string, time.Time, error) {
	return s.bind(nil).Supply(ctx)
}

// bind returns the oauthclient supplier s describes; another definition's
// token is looked up in reg at each use (none without a registry).
func (s *supplierSection) bind(reg *oauthclient.Registry) oauthclient.Supplier {
	switch {
	case s.File != "":
		return oauthclient.FileSupplier(s.File)
	case len(s.Command) > 0:
		args := make([]string, len(s.Command)-1)
		for i, a := range s.Command[1:] {
			args[i] = a.Reveal()
		}
		return oauthclient.CommandSupplier(s.Command[0].Reveal(), args...)
	case s.Definition != "" && reg != nil:
		return reg.Supplier(s.Definition)
	case s.Definition != "":
		return oauthclient.SupplierFunc(unbound)
	}
	return oauthclient.ValueSupplier(s.Value, time.Time{})
}

// unbound stands for another definition's token while a configuration is
// checked: it is never asked.
func unbound(context.Context) (string, time.Time, error) {
	return "", time.Time{}, errors.New("not bound to a registry")
}

// bindGrant returns g with the suppliers the file wrote made oauthclient
// suppliers, bound to reg.
func bindGrant(g oauthclient.Grant, reg *oauthclient.Registry) oauthclient.Grant {
	bind := func(s oauthclient.Supplier) oauthclient.Supplier {
		if ss, ok := s.(*supplierSection); ok {
			return ss.bind(reg)
		}
		return s
	}
	switch g := g.(type) {
	case oauthclient.JWTBearer:
		g.Assertion = bind(g.Assertion)
		return g
	case oauthclient.TokenExchange:
		g.SubjectToken, g.ActorToken = bind(g.SubjectToken), bind(g.ActorToken)
		return g
	case oauthclient.RefreshToken:
		g.Token = bind(g.Token)
		return g
	case oauthclient.Imported:
		g.Token = bind(g.Token)
		return g
	}
	return g
}

type fieldError struct{ field, reason string }

// oauthConfig is the oauthclient.Config of an oauth2, login or imported
// bearer definition, with its ca_file read and its suppliers bound to reg
// (nil while checking). Its cert_file and key_file are the source's to
// read (and read again when they change on disk).
func oauthConfig(name string, sc SecurityConfig, readFile func(string) ([]byte, error), reg *oauthclient.Registry) (oauthclient.Config, []fieldError) {
	cfg := sc.Config
	cfg.Name = name
	cfg.Grant = bindGrant(cfg.Grant, reg)
	var errs []fieldError
	if sc.CAFile != "" {
		pool, err := tlsconf.CertPool(sc.CAFile, readFile)
		if err != nil {
			errs = append(errs, fieldError{"ca_file", err.Error()})
		}
		cfg.RootCAs = pool
	}
	return cfg, errs
}

// defineSource builds the token source of an oauth2, login or imported
// bearer definition; another definition's token it exchanges is looked up
// in the registry at each use.
func (r *Registry) defineSource(name string, sc SecurityConfig) (def, *oauthclient.Source, error) {
	cfg, errs := oauthConfig(name, sc, r.set.Read, r.security)
	if len(errs) > 0 {
		return def{}, nil, fmt.Errorf("backends: security definition %q: %s: %s", name, errs[0].field, errs[0].reason)
	}
	src, err := oauthclient.NewSource(cfg, r.tokenOpts)
	if err != nil {
		return def{}, nil, fmt.Errorf("backends: %w", err)
	}
	return def{rest.OAuth(src), typeOAuth2}, src, nil
}
