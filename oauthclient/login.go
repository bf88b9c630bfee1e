package oauthclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/internal/backoff"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// Login asks a vendor's login endpoint that is not OAuth for its token,
// declaratively, so that no service writes a fetcher for it: a JSON (or
// form) body of fields of the vendor's own, the token at a path in a JSON
// answer, its lifetime from a field, else the JWT's exp, else
// Config.DefaultLifetime. Config.TokenURL is the login endpoint;
// Config.ClientID and ClientSecret go in the body under the names
// ClientIDField and ClientSecretField, or in a Basic header with
// AuthMethod client_secret_basic (the only methods are that and none);
// Timeout, DefaultLifetime, Certificate and RootCAs apply as for OAuth. The
// token goes out as "Authorization: <Scheme> <token>".
//
// A non-2xx answer is an *[Error] with the status and a short excerpt of
// the body scrubbed of the definition's secrets and of anything that looks
// like a token; a 2xx answer without a token at TokenPath is one matching
// [ErrMalformedResponse].
type Login struct {
	Method string `json:"method,omitempty" yaml:"method"` // POST (default), PUT or GET (the fields then go in the query)
	Body   string `json:"body,omitempty" yaml:"body"`     // "json" (default): the fields as a JSON object; "form": form-encoded
	// ClientIDField and ClientSecretField name the body fields that carry
	// Config.ClientID and Config.ClientSecret ("username", "password"…).
	// A dotted name nests in a JSON body: "auth.user" is {"auth":{"user":…}}.
	ClientIDField     string `json:"client_id_field,omitempty" yaml:"client_id_field"`
	ClientSecretField string `json:"client_secret_field,omitempty" yaml:"client_secret_field"`
	// Fields are further body fields (constants, ${VAR} and file: values
	// of a configuration file), dotted names nesting as above. Their
	// values are scrubbed from errors like secrets.
	Fields map[string]Secret `json:"fields,omitempty" yaml:"fields"`
	// Header holds headers of the login request (an API key…).
	Header map[string]Secret `json:"headers,omitempty" yaml:"headers"`
	// TokenPath is where the token is in the JSON answer, dotted
	// ("data.jwt"; a number indexes an array); default "access_token".
	TokenPath string `json:"token_path,omitempty" yaml:"token_path"`
	// ExpiresInPath, if set, is where the answer gives the token's
	// lifetime in seconds (a number or a numeric string).
	ExpiresInPath string `json:"expires_in_path,omitempty" yaml:"expires_in_path"`
	// ExpiresAtPath, if set, is where the answer gives its expiry: an RFC
	// 3339 date or Unix seconds.
	ExpiresAtPath string `json:"expires_at_path,omitempty" yaml:"expires_at_path"`
	// Scheme is the Authorization scheme the token is sent with; default
	// "Bearer".
	Scheme string `json:"scheme,omitempty" yaml:"scheme"`
}

func (Login) grantKind() string { return grantLogin }

func (g Login) method() string    { return strings.ToUpper(cmp.Or(g.Method, http.MethodPost)) }
func (g Login) tokenPath() string { return cmp.Or(g.TokenPath, "access_token") }
func (g Login) scheme() string    { return cmp.Or(g.Scheme, "Bearer") }

// loginFetcher performs the login request.
type loginFetcher struct {
	cfg Config
	g   Login
	w   *loginWire // behind a pointer: fmt's %s of the source does not reach it
	hc  *http.Client
	now func() time.Time
}

// loginWire is what a login request sends, revealed, and the values to
// scrub from its errors.
type loginWire struct {
	fields  map[string]string
	header  http.Header
	secrets []string
}

// prepareLogin validates a Login definition and builds its fetcher; start
// makes its source.
func prepareLogin(cfg Config, g Login, opts Options) (start func() *Source, err error) {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	if err := cfg.checkURL("token_url", cfg.TokenURL, opts.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	switch g.method() {
	case http.MethodPost, http.MethodPut, http.MethodGet:
	default:
		return nil, bad("method", fmt.Sprintf("%q is not POST, PUT or GET", g.Method))
	}
	switch g.Body {
	case "", "json", "form":
	default:
		return nil, bad("body", fmt.Sprintf("%q is not json or form", g.Body))
	}
	switch cfg.AuthMethod {
	case "", AuthNone, AuthClientSecretBasic:
	default:
		return nil, bad("auth_method", fmt.Sprintf("%q does not apply to a login endpoint (want client_secret_basic or none)", cfg.AuthMethod))
	}
	if g.Scheme != "" && !validToken(g.Scheme) {
		return nil, bad("scheme", "must be one word of printable characters")
	}
	for _, p := range []struct{ field, path string }{{"token_path", g.TokenPath}, {"expires_in_path", g.ExpiresInPath}, {"expires_at_path", g.ExpiresAtPath}} {
		if p.path != "" && slices.Contains(strings.Split(p.path, "."), "") {
			return nil, bad(p.field, fmt.Sprintf("%q has an empty segment", p.path))
		}
	}
	f := &loginFetcher{cfg: cfg, g: g, w: &loginWire{fields: map[string]string{}, header: http.Header{}}, now: opts.withDefaults().Now}
	if cfg.ClientSecret.Reveal() != "" {
		f.w.secrets = append(f.w.secrets, cfg.ClientSecret.Reveal())
	}
	add := func(field, name, v string) error {
		if _, dup := f.w.fields[name]; dup {
			return bad(field, fmt.Sprintf("body field %q is given twice", name))
		}
		f.w.fields[name] = v
		return nil
	}
	if g.ClientIDField != "" {
		if cfg.ClientID == "" {
			return nil, bad("client_id", "missing, and client_id_field names where it goes")
		}
		if err := add("client_id_field", g.ClientIDField, cfg.ClientID); err != nil {
			return nil, err
		}
	}
	if g.ClientSecretField != "" {
		if cfg.ClientSecret.IsZero() {
			return nil, bad("client_secret", "missing, and client_secret_field names where it goes")
		}
		if err := add("client_secret_field", g.ClientSecretField, cfg.ClientSecret.Reveal()); err != nil {
			return nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(g.Fields)) {
		if err := add("fields."+k, k, g.Fields[k].Reveal()); err != nil {
			return nil, err
		}
		f.w.secrets = append(f.w.secrets, g.Fields[k].Reveal())
	}
	if g.Body != "form" && g.method() != http.MethodGet {
		if _, err := nest(f.w.fields); err != nil {
			return nil, bad("fields", err.Error())
		}
	}
	for k, v := range g.Header {
		if !validToken(k) || strings.ContainsAny(k, ":()<>@,;\\\"/[]?={}") {
			return nil, bad("headers", fmt.Sprintf("%q is not a valid header name", k))
		}
		f.w.header.Set(k, v.Reveal())
		f.w.secrets = append(f.w.secrets, v.Reveal())
	}
	if cfg.AuthMethod == AuthClientSecretBasic {
		if cfg.ClientID == "" || cfg.ClientSecret.IsZero() {
			return nil, bad("client_secret", "client_secret_basic needs client_id and client_secret")
		}
		b := basicAuth{cfg.ClientID, cfg.ClientSecret}
		f.w.header.Set("Authorization", "Basic "+b.encoded())
		f.w.secrets = append(f.w.secrets, b.encoded())
	}
	certs, err := newClientCerts(cfg, opts.Now, opts.Logger)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(cfg, certs, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	f.hc = hc
	return func() *Source {
		s := newSource(cfg.Name, f, opts, grantLogin)
		s.secrets = hidden(f.w.secrets)
		s.certs = certs // presented to resource servers too (Transport), and reported in Status
		if certs != nil {
			certs.onRotate(s.rotated)
		}
		s.timed = opts.Now == nil
		s.timeout = sharedFetchBound(cfg.Timeout, opts)
		if cfg.AuthMethod == AuthClientSecretBasic {
			s.method = AuthClientSecretBasic
		}
		if opts.Store != nil { // keyed by name too: the fields that tell logins apart may be secrets
			s.key = keyOf("login", cfg.Name, cfg.TokenURL, g.method(), cfg.ClientID)
		}
		return s
	}, nil
}

// nest builds the JSON object of dotted field names.
func nest(fields map[string]string) (map[string]any, error) {
	root := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		segs := strings.Split(name, ".")
		if slices.Contains(segs, "") {
			return nil, fmt.Errorf("%q has an empty segment", name)
		}
		m := root
		for i, seg := range segs {
			if i == len(segs)-1 {
				if _, taken := m[seg]; taken {
					return nil, fmt.Errorf("%q is both a value and an object", name)
				}
				m[seg] = fields[name]
				break
			}
			next, ok := m[seg].(map[string]any)
			if !ok {
				if _, taken := m[seg]; taken {
					return nil, fmt.Errorf("%q is both a value and an object", strings.Join(segs[:i+1], "."))
				}
				next = map[string]any{}
				m[seg] = next
			}
			m = next
		}
	}
	return root, nil
}

func (f *loginFetcher) Fetch(ctx context.Context) (*Token, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := f.request(ctx)
	if err != nil {
		return nil, fmt.Errorf("security definition %q: %w", f.cfg.Name, err)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		// A transport may echo the URL, whose query holds the fields of a GET.
		cause := scrubCause(redact.URLCause(err), append(slices.Clip(f.w.secrets), redact.Sent(req)...))
		return nil, fmt.Errorf("security definition %q: login request: %w", f.cfg.Name, cause)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("security definition %q: reading the login response: %w", f.cfg.Name, err)
	}
	tok, err := f.parse(resp.StatusCode, resp.Header, body)
	return tok, askedOf(err, req.URL)
}

// request builds the login request.
func (f *loginFetcher) request(ctx context.Context) (*http.Request, error) {
	u, method := f.cfg.TokenURL, f.g.method()
	var body io.Reader
	var ctype string
	switch {
	case method == http.MethodGet:
		pu, err := url.Parse(u)
		if err != nil {
			return nil, err
		}
		q := pu.Query()
		for k, v := range f.w.fields {
			q.Set(k, v)
		}
		pu.RawQuery = q.Encode()
		u = pu.String()
	case f.g.Body == "form":
		v := url.Values{}
		for k, x := range f.w.fields {
			v.Set(k, x)
		}
		body, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	default:
		obj, err := nest(f.w.fields)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, redact.URLCause(err)
	}
	req.Header = f.w.header.Clone()
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// parse reads the token and its lifetime from a login answer.
func (f *loginFetcher) parse(status int, header http.Header, body []byte) (*Token, error) {
	now := f.now()
	fail := func(cause error, excerpt string) *Error {
		return &Error{Definition: f.cfg.Name, StatusCode: status, Err: cause, Excerpt: jwtLike.ReplaceAllString(scrub(redactTokens(excerpt), f.w.secrets), redact.Mark),
			RetryAfter: backoff.RetryAfter(header.Get("Retry-After"), now), Header: keptHeaders(header, f.w.secrets)}
	}
	body = bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if status < 200 || status > 299 {
		return nil, fail(nil, string(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fail(fmt.Errorf("%w: the login answer is not JSON", ErrMalformedResponse), "")
	}
	tok, ok := at(doc, f.g.tokenPath()).(string)
	if !ok || tok == "" {
		return nil, fail(fmt.Errorf("%w: no token at %s", ErrMalformedResponse, f.g.tokenPath()), "")
	}
	if !validToken(tok) {
		return nil, fail(fmt.Errorf("%w: the token at %s has characters not allowed in a header", ErrMalformedResponse, f.g.tokenPath()), "")
	}
	exp, err := f.expiry(doc, tok, now)
	if err != nil {
		return nil, fail(fmt.Errorf("%w: %v", ErrMalformedResponse, err), "")
	}
	return newSchemeToken(tok, f.g.scheme(), now, exp), nil
}

// expiry is the token's expiry: from ExpiresInPath, ExpiresAtPath, the
// JWT's exp or the default lifetime, never past maxLifetime.
func (f *loginFetcher) expiry(doc any, tok string, now time.Time) (time.Time, error) {
	if p := f.g.ExpiresInPath; p != "" {
		if v := at(doc, p); v != nil {
			life, err := lifetime(v, 0)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: %w", p, err)
			}
			if life > 0 {
				return now.Add(life), nil
			}
		}
	}
	if p := f.g.ExpiresAtPath; p != "" {
		if v := at(doc, p); v != nil {
			exp, err := dateValue(v)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: %w", p, err)
			}
			if !exp.After(now) {
				return time.Time{}, fmt.Errorf("%s: %s is not in the future", p, exp.UTC().Format(time.RFC3339))
			}
			if limit := now.Add(maxLifetime); exp.After(limit) {
				return limit, nil
			}
			return exp, nil
		}
	}
	if exp := jwtExpiry(tok); exp.After(now) {
		if limit := now.Add(maxLifetime); exp.After(limit) {
			return limit, nil
		}
		return exp, nil
	}
	return now.Add(f.cfg.DefaultLifetime), nil
}

// dateValue reads an expiry: RFC 3339, or Unix seconds (milliseconds when
// the number is too large to be seconds).
func dateValue(v any) (time.Time, error) {
	s := str(v)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 {
		return time.Time{}, fmt.Errorf("neither an RFC 3339 date nor Unix seconds")
	}
	if n > 1e11 {
		n /= 1000
	}
	return time.Unix(0, int64(n*1e9)), nil
}

// at returns the value at a dotted path of a decoded JSON document, or nil.
func at(doc any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		switch x := doc.(type) {
		case map[string]any:
			doc = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			doc = x[i]
		default:
			return nil
		}
	}
	return doc
}
