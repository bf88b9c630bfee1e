package redact

import (
	"errors"
	"net/url"
	"sort"
	"strings"
)

// secretParams are query parameters whose values are credentials wherever
// they appear.
var secretParams = []string{"access_token", "api_key", "apikey", "key", "token", "client_secret",
	"password", "sig", "signature", "code", "refresh_token", "id_token", "assertion", "client_assertion"}

// SecretParam reports whether a query parameter called name carries a
// credential by its name alone (access_token, api_key, sig…).
func SecretParam(name string) bool {
	for _, p := range secretParams {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// URL returns u without user info and fragment, with each query value
// replaced by Mark unless keep(name) says it may be shown; a nil keep shows
// no value. Parameter names are kept. The caller's URL is not modified.
func URL(u *url.URL, keep func(name string) bool) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		c.RawQuery = Query(c.RawQuery, keep)
	}
	return c.String()
}

// URLString is [URL] of a URL not yet parsed; "<invalid URL>" when it does
// not parse.
func URLString(raw string, keep func(name string) bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	return URL(u, keep)
}

// Query returns the raw query with each value replaced by Mark unless
// keep(name) allows it (nil keep: none); all of it when it does not parse.
// Parameters come out sorted by name.
func Query(raw string, keep func(name string) bool) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return Mark
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			if keep != nil && !SecretParam(k) && keep(k) {
				b.WriteString(url.QueryEscape(v))
			} else {
				b.WriteString(Mark)
			}
		}
	}
	return b.String()
}

// ShowValues is a keep function for [URL] and [Query]: every value is shown
// but those of parameters that carry a credential by name ([SecretParam]).
func ShowValues(string) bool { return true }

// URLCause returns the cause inside the *url.Error wrappers that net/http
// adds, which repeat the request URL with its query values.
func URLCause(err error) error {
	var ue *url.Error
	for errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return err
}
