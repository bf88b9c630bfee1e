package oauthclient

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokenwire/tokenwire/internal/backoff"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// maxLifetime caps the lifetime taken from expires_in, so that an absurd
// value never overflows into the past nor keeps a token for years.
const maxLifetime = 30 * 24 * time.Hour

const excerptLen = 120

// response is what a token endpoint answered, as parseResponse needs it.
type response struct {
	status int
	header http.Header
	body   []byte
}

// parseResponse turns a token endpoint answer into a token or an *Error.
// It accepts JSON (whatever the content type says), form-encoded bodies and
// RFC 6749 §5.2 errors with any status; secrets lists strings that must be
// scrubbed from any excerpt.
func parseResponse(def string, r response, now time.Time, defLifetime time.Duration, secrets ...string) (*Token, error) {
	fail := func(cause error, excerpt string) *Error {
		return &Error{Definition: def, StatusCode: r.status, Err: cause, Excerpt: scrub(excerpt, secrets),
			RetryAfter: backoff.RetryAfter(r.header.Get("Retry-After"), now), Header: keptHeaders(r.header, secrets)}
	}
	body := bytes.TrimSpace(bytes.TrimPrefix(r.body, []byte("\xef\xbb\xbf"))) // a BOM
	excerpt := string(body)
	if r.status >= 200 && r.status <= 299 {
		excerpt = "" // a success body may hold a token: never echo it
	}
	fields, err := decodeFields(body, r.header.Get("Content-Type"))
	if err != nil {
		return nil, fail(fmt.Errorf("%w: %v", ErrMalformedResponse, err), redactTokens(excerpt))
	}
	if code := str(fields["error"]); code != "" {
		e := fail(nil, "")
		e.Code = scrub(code, secrets)
		e.Description = scrub(str(fields["error_description"]), secrets)
		e.URI = scrub(str(fields["error_uri"]), secrets)
		return nil, e
	}
	if r.status < 200 || r.status > 299 {
		return nil, fail(nil, redactTokens(excerpt))
	}
	access, ok := fields["access_token"].(string)
	if !ok || access == "" {
		return nil, fail(fmt.Errorf("%w: no access_token", ErrMalformedResponse), "")
	}
	if !validToken(access) {
		return nil, fail(fmt.Errorf("%w: access_token has characters not allowed in a header", ErrMalformedResponse), "")
	}
	life, err := tokenLifetime(fields, body[0] != '{', access, now, defLifetime)
	if err != nil {
		return nil, fail(fmt.Errorf("%w: %s", ErrMalformedResponse, scrub(err.Error(), secrets)), "")
	}
	return newToken(access, str(fields["token_type"]), scope(fields["scope"]), now, now.Add(life), fields), nil
}

// tokenLifetime is how long a token lives: expires_in; else, in a
// form-encoded body, the legacy "expires" (seconds, as Facebook's older API
// sent; ignored when it is not a number or reads as a Unix time); else the
// exp claim of a JWT access token; else def. None is trusted past
// maxLifetime.
func tokenLifetime(fields map[string]any, form bool, access string, now time.Time, def time.Duration) (time.Duration, error) {
	life, err := lifetime(fields["expires_in"], 0)
	if err != nil {
		return 0, fmt.Errorf("expires_in: %w", err)
	}
	if life > 0 {
		return life, nil
	}
	if form {
		if l, err := lifetime(fields["expires"], 0); err == nil && l > 0 && l < maxLifetime {
			return l, nil // a value past the cap is a timestamp more likely than a lifetime
		}
	}
	if life := jwtLifetime(access, now); life > 0 {
		return life, nil
	}
	return def, nil
}

// jwtLifetime reads the exp claim of an access token that is a JWT, without
// verifying it (it only sizes the cache); 0 when the token is opaque, does
// not parse, has no exp or has expired. A token stays opaque otherwise.
func jwtLifetime(access string, now time.Time) time.Duration {
	parts := strings.Split(access, ".")
	if len(parts) != 3 || len(parts[1]) > 8<<10 {
		return 0
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return 0
	}
	exp, err := claims.Exp.Float64()
	if err != nil || math.IsNaN(exp) || math.IsInf(exp, 0) {
		return 0
	}
	life := time.Duration((exp - float64(now.UnixNano())/1e9) * float64(time.Second))
	if exp-float64(now.Unix()) >= maxLifetime.Seconds() {
		return maxLifetime
	}
	return max(life, 0)
}

// errorHeaders are the response headers an *Error keeps: what a caller
// needs to react (a challenge, when to retry, a DPoP nonce).
var errorHeaders = []string{"Www-Authenticate", "Retry-After", "Dpop-Nonce"}

// keptHeaders returns the errorHeaders of h, scrubbed of secrets and cut to
// a bounded length; nil when there are none.
func keptHeaders(h http.Header, secrets []string) http.Header {
	var out http.Header
	for _, k := range errorHeaders {
		for _, v := range h.Values(k) {
			if out == nil {
				out = http.Header{}
			}
			out.Add(k, scrub(v, secrets))
		}
	}
	return out
}

// decodeFields reads a JSON object or a form-encoded body into a map.
func decodeFields(body []byte, contentType string) (map[string]any, error) {
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case body[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("invalid JSON (content type %q)", mt)
		}
		return m, nil
	case body[0] == '<':
		return nil, fmt.Errorf("HTML or XML instead of a token (content type %q)", mt)
	case bytes.IndexByte(body, '=') > 0 && (!bytes.ContainsAny(body, " \n") ||
		bytes.HasPrefix(body, []byte("access_token=")) || bytes.Contains(body, []byte("&access_token="))):
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("invalid form body (content type %q)", mt)
		}
		m := make(map[string]any, len(v))
		for k := range v {
			m[k] = v.Get(k)
		}
		return m, nil
	}
	return nil, fmt.Errorf("neither JSON nor form-encoded (content type %q)", mt)
}

// lifetime interprets expires_in: a JSON number, a numeric string, a float;
// absent or non-positive means def; huge values are capped at maxLifetime.
func lifetime(v any, def time.Duration) (time.Duration, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return def, nil
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return 0, fmt.Errorf("a %T", v)
	}
	if s == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if (err != nil && !math.IsInf(f, 0)) || math.IsNaN(f) { // ±Inf: out of range, capped below
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if f <= 0 {
		return def, nil
	}
	if f >= maxLifetime.Seconds() {
		return maxLifetime, nil
	}
	if d := time.Duration(f * float64(time.Second)); d > 0 {
		return d, nil
	}
	return def, nil // less than a nanosecond
}

// tokenMember matches token values in a body excerpt, JSON or form.
var tokenMember = regexp.MustCompile(`((?:access|refresh|id)_token"?\s*[:=]\s*"?)[^"&\s,}]+`)

// redactTokens hides any token value in an excerpt of an error body.
func redactTokens(s string) string { return tokenMember.ReplaceAllString(s, "${1}"+redact.Mark) }

// scope reads "scope" as a string, or a JSON array some servers send.
func scope(v any) string {
	if a, ok := v.([]any); ok {
		parts := make([]string, 0, len(a))
		for _, x := range a {
			if p := str(x); p != "" {
				parts = append(parts, p)
			}
		}
		return strings.Join(parts, " ")
	}
	return str(v)
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

// scrub shortens s to a printable excerpt and removes every secret, also
// in the whitespace-collapsed form the excerpt takes.
func scrub(s string, secrets []string) string {
	s = replaceSecrets(s, secrets)
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	s = replaceSecrets(collapse(s), secrets)
	return truncate(s, excerptLen)
}

func replaceSecrets(s string, secrets []string) string {
	forms := make([]string, 0, 2*len(secrets))
	for _, sec := range secrets {
		forms = append(forms, sec, collapse(sec)) // also as the excerpt folds its whitespace
	}
	return redact.Values(s, forms...)
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// validToken reports whether v can be sent in an HTTP header: printable
// ASCII without spaces at the ends, as RFC 6750's b64token and every real
// token are.
func validToken(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
