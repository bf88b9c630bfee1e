package backends

import (
	"net/url"
	"strings"

	"github.com/tokenwire/tokenwire/internal/urlpath"
	"github.com/tokenwire/tokenwire/rest"
)

// checkPing reports a ping setting that rest.NewConn would refuse: a
// method that is not safe, or a path that does not join to a base URL.
func (r *configReader) checkPing(where string, p rest.PingConfig) {
	switch strings.ToUpper(p.Method) {
	case "", "HEAD", "GET", "OPTIONS":
	default:
		r.add(where, "ping.method", 0, "%q is not allowed (want HEAD, GET or OPTIONS: a ping must change nothing)", p.Method)
	}
	if p.Path != "" {
		if _, err := urlpath.JoinPing(&url.URL{Scheme: "https", Host: "base.invalid"}, p.Path); err != nil {
			r.add(where, "ping.path", 0, "%s", strings.TrimPrefix(err.Error(), "rest: "))
		}
	}
}

// checkFHIRPing reports a ping setting on a FHIR connection, which is
// always pinged with GET [base]/metadata.
func (r *configReader) checkFHIRPing(where string, p rest.PingConfig) {
	if p != (rest.PingConfig{}) {
		r.add(where, "ping", 0, "does not apply to a FHIR connection: it is pinged with GET [base]/metadata (a CapabilityStatement)")
	}
}
