package rest

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// checkPing reports a ping setting that Conn.Ping would refuse: a method
// that is not safe, or a path that does not join to a base URL.
func (r *configReader) checkPing(where string, p PingConfig) {
	if err := p.check(); err != nil {
		field, reason, _ := strings.Cut(err.Error(), ": ")
		r.add(where, "ping."+field, 0, "%s", reason)
	}
}

// check validates p; the error is "field: reason".
func (p PingConfig) check() error {
	if p.Method != "" && !slices.Contains(pingMethods, strings.ToUpper(p.Method)) {
		return fmt.Errorf("method: %q is not allowed (want HEAD, GET or OPTIONS: a ping must change nothing)", p.Method)
	}
	if p.Path != "" {
		if _, err := joinURL(&url.URL{Scheme: "https", Host: "base.invalid"}, p.Path, nil); err != nil {
			return errors.New("path: " + strings.TrimPrefix(err.Error(), "rest: "))
		}
	}
	return nil
}

// checkFHIRPing reports a ping setting on a FHIR connection, which is
// always pinged with GET [base]/metadata.
func (r *configReader) checkFHIRPing(where string, p PingConfig) {
	if p != (PingConfig{}) {
		r.add(where, "ping", 0, "does not apply to a FHIR connection: it is pinged with GET [base]/metadata (a CapabilityStatement)")
	}
}
