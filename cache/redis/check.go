package redis

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ErrMisconfigured is matched (errors.Is) by the error of [Store.Check],
// [Config.Open] and [NewFromConfig] when Redis answered but refused the
// store, which retrying will not fix: credentials refused (WRONGPASS,
// NOAUTH), a user not allowed the store's commands or prefix (NOPERM), a
// server certificate the client does not trust or that names another
// host, or a port that does not speak TLS.
var ErrMisconfigured = errors.New("misconfigured")

// checkTimeout bounds the check [Config.Open] makes, a cold connection's
// dial and handshakes included; a Redis that does not answer within it is
// taken as down, not misconfigured.
const checkTimeout = 2 * time.Second

// CheckError is the error of a [Store.Check] that Redis refused: it names
// the store and the cause, and wraps [ErrMisconfigured] and the client's
// error (never a password, key or value).
type CheckError struct {
	Store string // the store's addresses, e.g. "127.0.0.1:6380" or "master tokenwire via sentinels …"
	Cause string // what to look at, e.g. "the server refused the username or password"
	Err   error  // the client's error
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("redis: store %s: %s: %v", e.Store, e.Cause, e.Err)
}

// Unwrap returns [ErrMisconfigured] and the client's error.
func (e *CheckError) Unwrap() []error { return []error{ErrMisconfigured, e.Err} }

// Check runs what the store runs against Redis, without writing: the
// compare-and-delete script (EVALSHA, or EVAL) on a key under the prefix
// that is never set. Redis refusing it is a *CheckError wrapping
// [ErrMisconfigured]; Redis not answering is the client's error as is.
// It neither uses the fallback store nor moves the breaker.
func (s *Store) Check(ctx context.Context) error {
	err := deleteIfScript.Run(ctx, s.client, []string{s.valueKey("tokenwire:check")}, rand.Text()).Err()
	if err == nil {
		return nil
	}
	if cause := refusal(err); cause != "" {
		return &CheckError{Store: s.where, Cause: cause, Err: err}
	}
	return fmt.Errorf("redis: store %s: %w", s.where, err)
}

// refusal says why err is a refusal that retrying will not fix, or "" for
// an outage or a timeout.
func refusal(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
	)
	switch {
	case goredis.IsAuthError(err):
		return "the server refused the username or password"
	case goredis.IsPermissionError(err):
		return "the user may not run the store's commands on keys under its prefix (ACL)"
	case errors.As(err, &unknown):
		return "TLS: the server's certificate is not signed by a trusted CA (tls_ca_file)"
	case errors.As(err, &hostname):
		return "TLS: the server's certificate is for another host (tls_server_name)"
	case errors.As(err, &invalid):
		return "TLS: the server's certificate is not valid"
	case errors.As(err, &verify):
		return "TLS: the server's certificate did not verify"
	case errors.As(err, &header):
		return "TLS: the server does not speak TLS on this port"
	case errors.As(err, &alert):
		return "TLS: the server refused the handshake"
	}
	return ""
}

// describe names the store's Redis for errors: its address, a Cluster's
// seeds, or a Sentinel master and its Sentinels.
func describe(client goredis.UniversalClient) string {
	switch c := client.(type) {
	case *goredis.ClusterClient:
		return "cluster " + strings.Join(c.Options().Addrs, ",")
	case *goredis.Client:
		return c.Options().Addr // "FailoverClient" for a Sentinel client: Config names those
	}
	return fmt.Sprintf("%T", client)
}

// where names the Redis of the configuration, as describe does a client.
func (c Config) where() string {
	addrs := strings.Join(c.addrs(), ",")
	switch {
	case c.MasterName != "":
		return fmt.Sprintf("master %q via sentinels %s", c.MasterName, addrs)
	case c.Cluster || len(c.addrs()) > 1:
		return "cluster " + addrs
	}
	return addrs
}
