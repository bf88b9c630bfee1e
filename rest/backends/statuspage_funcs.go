package backends

import (
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// pageFuncs are the template's helpers: times relative to the page's
// clock, durations for people, state names and classes.
var pageFuncs = template.FuncMap{
	"ago":        ago,
	"until":      until,
	"dur":        func(d time.Duration) string { return roundDuration(d).String() },
	"tokenState": tokenState,
	"stateClass": stateClass,
	"statusText": statusText,
	"utc":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"style":      func() template.CSS { return template.CSS(pageCSS) },
}

// ago is "3s ago" from now, or "never" for a zero t.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + roundDuration(-d).String()
	}
	return roundDuration(d).String() + " ago"
}

// until is "in 4m59s" from at, "3s ago" once past, "" for a zero t.
func until(at, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ago(at, t)
}

// roundDuration keeps durations readable: milliseconds under a second,
// seconds under an hour, minutes beyond.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	case d < time.Hour:
		return d.Round(time.Second)
	}
	return d.Round(time.Minute)
}

// stateClass is the CSS class of a token state: good, warn or bad.
func stateClass(s oauthclient.TokenState) string {
	switch s {
	case oauthclient.TokenFresh:
		return "good"
	case oauthclient.TokenStale, oauthclient.TokenNone:
		return "warn"
	}
	return "bad"
}

// statusText is "200 OK", or "—" before any response.
func statusText(code int) string {
	if code == 0 {
		return "—"
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}
