// Package redact is tokenwire's one way of keeping secrets out of what it
// prints: the redaction mark, the Secret type every secret configuration
// value is held in, and helpers that scrub known values out of text.
package redact

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
)

// Mark replaces every secret that would otherwise be printed.
const Mark = "[redacted]"

// Secret is a value that must never be printed: client secrets, private
// keys, passwords, API keys, bearer tokens, encryption keys. Every fmt verb
// — even %p, which no method can intercept: the value sits behind a
// pointer, which fmt shows as an address — log/slog (text and JSON),
// encoding/json and YAML show it as [Mark] (or "" when it is empty);
// [Secret.Reveal] returns the value. The zero Secret is empty; make one
// with [NewSecret], or decode one (JSON, YAML, text).
type Secret struct{ v *string }

// NewSecret holds s; an empty s gives the zero (empty) Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret value, for the one place that sends it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether s is empty.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

// String returns [Mark], or "" for an empty secret.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return Mark
}

// GoString makes %#v print the redacted form.
func (s Secret) GoString() string { return s.String() }

// Format prints the redacted form whatever the verb (%v %+v %#v %s %q %d…).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue keeps log/slog handlers from seeing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText makes encoders (JSON, YAML, slog's JSON handler) write the
// redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML writes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalText keeps decoders (JSON, text) reading the plain value.
func (s *Secret) UnmarshalText(b []byte) error { *s = NewSecret(string(b)); return nil }

// UnmarshalYAML reads a scalar; a mapping or a list is an error (which
// says what was expected, never what was found).
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a string")
	}
	*s = NewSecret(n.Value)
	return nil
}

// Set returns Mark when set is true, and "none" otherwise: how types that
// hold a secret say whether they have one.
func Set(set bool) string {
	if set {
		return Mark
	}
	return "none"
}

// Format writes s whatever the verb: the Format method of a type that holds
// a secret and prints a redacted description of itself.
func Format(f fmt.State, s string) { _, _ = io.WriteString(f, s) }

// Values replaces in s every occurrence of each value with Mark, in each
// of the forms a server or a program may echo it: as it is, URL-escaped,
// JSON-escaped, quoted, HTML-escaped and base64-encoded. Longer forms go first, so that a value is never half
// replaced through a shorter one; values shorter than 4 bytes are left
// alone (replacing them would garble the text and protect nothing).
func Values(s string, values ...string) string {
	if s == "" || len(values) == 0 {
		return s
	}
	var forms []string
	for _, v := range values {
		if len(v) < 4 {
			continue
		}
		for _, f := range echoForms(v) {
			if strings.Contains(s, f) {
				forms = append(forms, f)
			}
		}
	}
	if len(forms) == 0 {
		return s
	}
	sortLongestFirst(forms)
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, Mark)
	}
	return s
}

// jsonEscaped is v as it stands inside a JSON string, with or without
// HTML escaping (encoding/json's default escapes <, > and &).
func jsonEscaped(v string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(v)
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(b.String()), `"`), `"`)
}

// echoForms are the ways a server or a program may echo v: as it is,
// URL-escaped (both hex cases), JSON-escaped (Go's, with or without HTML
// escaping; ASCII-only in both hex cases, as Jackson and PHP write; PHP's
// \/ with raw Unicode), quoted as Go's %q and %+q do, HTML-escaped (numeric or
// named quotes) and base64-encoded (standard and URL alphabets, padded or
// not).
func echoForms(v string) []string {
	q := url.QueryEscape(v)
	h := html.EscapeString(v)
	php := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "/", `\/`).Replace(v)
	quoted, ascii := strconv.Quote(v), strconv.QuoteToASCII(v)
	return []string{v, q, lowerHex.ReplaceAllStringFunc(q, strings.ToLower), url.PathEscape(v),
		jsonEscaped(v, true), jsonEscaped(v, false), jsonASCII(v, "%04x"), jsonASCII(v, "%04X"), php,
		quoted[1 : len(quoted)-1], ascii[1 : len(ascii)-1], h, strings.NewReplacer("&#34;", "&quot;", "&#39;", "&apos;").Replace(h),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
}

var lowerHex = regexp.MustCompile(`%[0-9A-F]{2}`)

// jsonASCII is v as a JSON encoder that escapes "/" and every non-ASCII
// character writes it (\/, \u00f6), as PHP and some Java servers do.
func jsonASCII(v, hexFormat string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '/':
			b.WriteString(`\/`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e || r == '<' || r == '>' || r == '&':
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u`+hexFormat+`\u`+hexFormat, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u`+hexFormat, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sortLongestFirst(vs []string) {
	slices.SortStableFunc(vs, func(a, b string) int { return len(b) - len(a) })
}

// credentialHeaders are the request headers that carry a credential.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Dpop", "Cookie"}

// Sent returns the credentials a request actually carried: the value of
// each credential header and, for "Scheme value" ones, the value alone,
// plus the values of the extra headers named. Errors built from a response
// scrub them, so that a backend echoing the token it was sent ("token
// Bearer eyJ… lacks scope") never puts it in an error.
func Sent(req *http.Request, extra ...string) []string {
	if req == nil {
		return nil
	}
	var out []string
	add := func(name string) {
		for _, v := range req.Header.Values(name) {
			out = append(out, v)
			if _, cred, ok := strings.Cut(v, " "); ok {
				out = append(out, strings.TrimSpace(cred))
			}
		}
	}
	for _, h := range credentialHeaders {
		add(h)
	}
	for _, h := range extra {
		add(h)
	}
	return out
}
