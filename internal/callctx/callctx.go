// Package callctx is what a request's context tells the connection it is
// sent through, and what a connection tells the protocol above it: the
// contract between rest and fhir that users never see.
package callctx

import "context"

type retryableKey struct{}

// Retryable marks ctx so that a request sent with it may be repeated by a
// connection's retry policy although its method is not idempotent: a read
// sent by POST, such as a FHIR _search.
func Retryable(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryableKey{}, true)
}

// IsRetryable reports whether ctx was marked by Retryable.
func IsRetryable(ctx context.Context) bool {
	v, _ := ctx.Value(retryableKey{}).(bool)
	return v
}

type scrubKey struct{}

// WithScrubber returns ctx carrying scrub, which removes from a text the
// secrets of the connection a request went through (an API key, a
// password, a fixed token) and the extra values given (the credential the
// request carried).
func WithScrubber(ctx context.Context, scrub func(s string, extra ...string) string) context.Context {
	return context.WithValue(ctx, scrubKey{}, scrub)
}

// Scrubber returns the scrubber ctx carries, or nil.
func Scrubber(ctx context.Context) func(s string, extra ...string) string {
	f, _ := ctx.Value(scrubKey{}).(func(string, ...string) string)
	return f
}
