package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/internal/files"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// Supplier yields a credential issued elsewhere — a JWT assertion, a
// subject or actor token, a refresh token, an imported token — each time a
// token request needs it, so that one rotated where it lives (a projected
// Kubernetes service-account token on disk, a command's output, another
// definition's token) is picked up without a restart. A supplier is asked
// once per fetch, never on the hot path.
//
// expiry is when the credential expires, or zero when the supplier does
// not know; a JWT's exp is then read by whoever needs it (a token exchange
// keeps its token no longer than its subject token). Errors never contain
// the value.
type Supplier interface {
	Supply(ctx context.Context) (value string, expiry time.Time, err error)
}

// SupplierFunc adapts a function to [Supplier].
type SupplierFunc func(ctx context.Context) (value string, expiry time.Time, err error)

// Supply calls f.
func (f SupplierFunc) Supply(ctx context.Context) (string, time.Time, error) { return f(ctx) }

// maxSupplied bounds a supplied credential: a file's size, a command's
// output.
const maxSupplied = 64 << 10

// FileSupplier reads the file at path each time it is asked (a regular
// file of at most 64 KiB; surrounding white space is dropped), so that a
// file rotated on disk — a projected Kubernetes service-account token, a
// refresh token written by examples/authorize — is picked up at the next
// token request.
func FileSupplier(path string) Supplier { return fileSupplier{path} }

type fileSupplier struct{ path string }

func (s fileSupplier) Supply(context.Context) (string, time.Time, error) {
	b, err := files.Read(s.path)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("reading %s: %w", s.path, err)
	}
	if len(b) > maxSupplied {
		return "", time.Time{}, fmt.Errorf("reading %s: larger than 64 KiB", s.path)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", time.Time{}, fmt.Errorf("%s is empty", s.path)
	}
	return v, time.Time{}, nil
}

func (s fileSupplier) String() string               { return "file(" + s.path + ")" }
func (s fileSupplier) Format(f fmt.State, _ rune)   { redact.Format(f, s.String()) }
func (s fileSupplier) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
func (s fileSupplier) MarshalYAML() (any, error)    { return s.String(), nil }
func (s fileSupplier) LogValue() slog.Value         { return slog.StringValue(s.String()) }
func (s fileSupplier) GoString() string             { return s.String() }

// ValueSupplier supplies v, and expiry when it is not zero: a credential
// handed to the service once (an imported token with its expiry, a
// refresh token from a secret).
func ValueSupplier(v Secret, expiry time.Time) Supplier { return valueSupplier{v, expiry} }

type valueSupplier struct {
	v      Secret
	expiry time.Time
}

func (s valueSupplier) Supply(context.Context) (string, time.Time, error) {
	if s.v.IsZero() {
		return "", time.Time{}, errors.New("empty value")
	}
	return s.v.Reveal(), s.expiry, nil
}

func (s valueSupplier) String() string               { return "value(" + redact.Mark + ")" }
func (s valueSupplier) Format(f fmt.State, _ rune)   { redact.Format(f, s.String()) }
func (s valueSupplier) GoString() string             { return s.String() }
func (s valueSupplier) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
func (s valueSupplier) MarshalYAML() (any, error)    { return s.String(), nil }
func (s valueSupplier) LogValue() slog.Value         { return slog.StringValue(s.String()) }

// SourceSupplier supplies src's current access token and its expiry: the
// subject token of a [TokenExchange] that another definition obtains.
func SourceSupplier(src *Source) Supplier { return sourceSupplier{src} }

type sourceSupplier struct{ src *Source }

func (s sourceSupplier) Supply(ctx context.Context) (string, time.Time, error) {
	t, err := s.src.TokenContext(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	return t.cred.access, t.expiry, nil
}

func (s sourceSupplier) String() string               { return "source(" + s.src.name + ")" }
func (s sourceSupplier) Format(f fmt.State, _ rune)   { redact.Format(f, s.String()) }
func (s sourceSupplier) GoString() string             { return s.String() }
func (s sourceSupplier) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
func (s sourceSupplier) MarshalYAML() (any, error)    { return s.String(), nil }
func (s sourceSupplier) LogValue() slog.Value         { return slog.StringValue(s.String()) }

// Supplier supplies the access token of the registry's definition called
// name, looked up at each use: after the definition is replaced (a reload)
// the new one's token is supplied. It is how a [TokenExchange] takes its
// subject token from another definition of the same registry.
func (r *Registry) Supplier(name string) Supplier { return registrySupplier{r, name} }

type registrySupplier struct {
	r    *Registry
	name string
}

func (s registrySupplier) Supply(ctx context.Context) (string, time.Time, error) {
	src, err := s.r.Source(s.name)
	if err != nil {
		return "", time.Time{}, err
	}
	return sourceSupplier{src}.Supply(ctx)
}

func (s registrySupplier) String() string               { return "definition(" + s.name + ")" }
func (s registrySupplier) Format(f fmt.State, _ rune)   { redact.Format(f, s.String()) }
func (s registrySupplier) GoString() string             { return s.String() }
func (s registrySupplier) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
func (s registrySupplier) MarshalYAML() (any, error)    { return s.String(), nil }
func (s registrySupplier) LogValue() slog.Value         { return slog.StringValue(s.String()) }

// supply asks sup for the credential what of definition def, checking
// that it is one: not empty, and sendable (printable ASCII).
func supply(ctx context.Context, def, what string, sup Supplier) (string, time.Time, error) {
	v, exp, err := sup.Supply(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("security definition %q: %s: %w", def, what, redact.URLCause(err))
	}
	if v == "" {
		return "", time.Time{}, fmt.Errorf("security definition %q: %s: empty", def, what)
	}
	if !validToken(v) {
		return "", time.Time{}, fmt.Errorf("security definition %q: %s: has characters not allowed in a token", def, what)
	}
	return v, exp, nil
}
