// Package origin is tokenwire's one origin normaliser: every check that a
// credential, a default header or a paging link belongs to a connection's
// server compares origins made here.
package origin

import (
	"net"
	"net/url"
)

// Origin is a URL's scheme, host and port, normalised: scheme and host
// lower-case, the scheme's default port made explicit (443 for https, 80
// for http). Two URLs are on the same origin exactly when their Origins
// are equal.
type Origin struct{ scheme, host, port string }

// New returns u's origin; the zero Origin when u has no host.
func New(u *url.URL) Origin {
	if u == nil || u.Host == "" {
		return Origin{}
	}
	scheme := lowerASCII(u.Scheme)
	return Origin{scheme: scheme, host: lowerASCII(u.Hostname()), port: port(scheme, u.Port())}
}

// Parse returns the origin of the absolute URL raw; ok is false when raw
// does not parse or has no host.
func Parse(raw string) (o Origin, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Origin{}, false
	}
	return New(u), true
}

func port(scheme, p string) string {
	if p != "" {
		return p
	}
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// IsZero reports whether o is the origin of no URL.
func (o Origin) IsZero() bool { return o.host == "" }

// Scheme returns the lower-case scheme.
func (o Origin) Scheme() string { return o.scheme }

// String returns "scheme://host:port" (IPv6 hosts in brackets).
func (o Origin) String() string {
	if o.IsZero() {
		return ""
	}
	return o.scheme + "://" + net.JoinHostPort(o.host, o.port)
}

// Match reports, without allocating, whether u is on origin o.
func (o Origin) Match(u *url.URL) bool {
	if o.IsZero() || u == nil || !equalFoldASCII(u.Scheme, o.scheme) {
		return false
	}
	return equalFoldASCII(u.Hostname(), o.host) && port(o.scheme, u.Port()) == o.port
}

// Case is folded in ASCII only: Unicode folding would make "K" (U+212A
// KELVIN SIGN) the host letter k, and two different hosts one origin.

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalFoldASCII reports, without allocating, whether a and b are equal
// under ASCII case folding; any other byte must match exactly.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Of returns u's origin as a string, "" for a URL without a host.
func Of(u *url.URL) string { return New(u).String() }
