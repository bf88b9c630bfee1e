package urlpath

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJoinURL(t *testing.T) {
	tests := []struct {
		name  string
		base  string
		path  string
		raw   string
		query url.Values
		want  string
		bad   bool
	}{
		{name: "simple", base: "https://api.example.com/v1", path: "/customers/42", want: "https://api.example.com/v1/customers/42"},
		{name: "base trailing slash", base: "https://api.example.com/v1/", path: "customers", want: "https://api.example.com/v1/customers"},
		{name: "no base path", base: "https://api.example.com", path: "customers", want: "https://api.example.com/customers"},
		{name: "empty path", base: "https://api.example.com/v1/", path: "", want: "https://api.example.com/v1"},
		{name: "empty path no base path", base: "https://api.example.com", path: "", want: "https://api.example.com/"},
		{name: "double slashes", base: "https://api.example.com/v1//", path: "//customers///42/", want: "https://api.example.com/v1/customers/42"},
		{name: "dot segments", base: "https://api.example.com/v1", path: "./customers/./42", want: "https://api.example.com/v1/customers/42"},
		{name: "dotdot", base: "https://api.example.com/v1", path: "../admin", bad: true},
		{name: "inner dotdot", base: "https://api.example.com/v1", path: "customers/../../admin", bad: true},
		{name: "encoded dotdot", base: "https://api.example.com/v1", path: "%2e%2E/admin", bad: true},
		{name: "encoded slash dotdot", base: "https://api.example.com/v1", path: "x%2f..%2fadmin", bad: true},
		{name: "backslash dotdot", base: "https://api.example.com/v1", path: `..\admin`, bad: true},
		{name: "dots in name ok", base: "https://api.example.com/v1", path: "files/a..b.txt", want: "https://api.example.com/v1/files/a..b.txt"},
		{name: "fragment", base: "https://api.example.com/v1", path: "customers#x", bad: true},
		{name: "bad escape", base: "https://api.example.com/v1", path: "customers/%zz", bad: true},
		{name: "encoded slash kept", base: "https://api.example.com/v1", path: "ids/a%2Fb", want: "https://api.example.com/v1/ids/a%2Fb"},
		{name: "space escaped", base: "https://api.example.com/v1", path: "names/Ada Lovelace", want: "https://api.example.com/v1/names/Ada%20Lovelace"},
		{name: "absolute url is a path", base: "https://api.example.com/v1", path: "https://evil.example/x", want: "https://api.example.com/v1/https:/evil.example/x"},
		{name: "scheme relative is a path", base: "https://api.example.com", path: "//evil.example/x", want: "https://api.example.com/evil.example/x"},
		{name: "query in path refused", base: "https://api.example.com/v1", path: "customers?status=open", bad: true},
		{name: "query smuggled in an id", base: "https://api.example.com/v1", path: "customers/a?b=c", bad: true},
		{name: "raw query apart", base: "https://api.example.com/v1", path: "customers", raw: "status=open", want: "https://api.example.com/v1/customers?status=open"},
		{name: "query values encoded", base: "https://api.example.com/v1", path: "search", query: url.Values{"q": {"a&b=c d"}}, want: "https://api.example.com/v1/search?q=a%26b%3Dc+d"},
		{name: "all queries merged", base: "https://api.example.com/v1?tenant=7", path: "search", raw: "x=1", query: url.Values{"y": {"2"}}, want: "https://api.example.com/v1/search?tenant=7&x=1&y=2"},
		{name: "bad raw query", base: "https://api.example.com", path: "search", raw: "x=%zz", bad: true},
		{name: "fragment in raw query", base: "https://api.example.com", path: "search", raw: "x=1#y", bad: true},
		{name: "credentials dropped", base: "https://user:pw@api.example.com/v1", path: "x", want: "https://api.example.com/v1/x"},
		{name: "port kept", base: "http://127.0.0.1:8080/api", path: "x", want: "http://127.0.0.1:8080/api/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := url.Parse(tt.base)
			require.NoError(t, err)
			got, err := Join(base, tt.path, tt.raw, tt.query)
			if tt.bad {
				assert.ErrorIs(t, err, ErrBadPath)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
		})
	}
}

func FuzzJoinURL(f *testing.F) {
	for _, s := range []string{"customers/42", "../x", "%2e%2e", "a//b?c=d", `a\..\b`, "x%2f..%2fy"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://api.example.com/base")
	f.Fuzz(func(t *testing.T, p string) {
		u, err := Join(base, p, "", nil)
		if err != nil {
			return
		}
		if u.Host != "api.example.com" || u.Scheme != "https" {
			t.Fatalf("%q escaped the origin: %s", p, u)
		}
		if u.Path != "/base" && !hasPrefix(u.Path, "/base/") {
			t.Fatalf("%q escaped the base path: %s", p, u)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("%q smuggled a query or a fragment: %s", p, u)
		}
		ref, err := url.Parse(u.String())
		if err != nil {
			t.Fatalf("%q produced an unparsable URL %s: %v", p, u, err)
		}
		if r := base.ResolveReference(&url.URL{Path: ref.Path}); r.Path != "/base" && !hasPrefix(r.Path, "/base/") {
			t.Fatalf("%q resolves outside the base: %s", p, r)
		}
	})
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Segments keeps every value one segment: nothing in it becomes a query,
// a fragment, a separator or a climb; what would change the resource
// named (empty, ".", "..") is refused by Join.
func TestSegments(t *testing.T) {
	base, err := url.Parse("https://api.example.com/v1")
	require.NoError(t, err)
	for _, tt := range []struct {
		id, want string
	}{
		{"42", "https://api.example.com/v1/customers/42"},
		{"a?b=c", "https://api.example.com/v1/customers/a%3Fb=c"},
		{"a#b", "https://api.example.com/v1/customers/a%23b"},
		{"%2e%2e", "https://api.example.com/v1/customers/%252e%252e"},
		{"a/b", "https://api.example.com/v1/customers/a%2Fb"},
		{"Ada Lovelace", "https://api.example.com/v1/customers/Ada%20Lovelace"},
		{"..x", "https://api.example.com/v1/customers/..x"},
	} {
		u, err := Join(base, Segments("customers", tt.id), "", nil)
		require.NoError(t, err, tt.id)
		assert.Equal(t, tt.want, u.String(), tt.id)
		assert.Empty(t, u.RawQuery, tt.id)
		assert.Empty(t, u.Fragment, tt.id)
	}
	for _, id := range []string{"..", ".", "", `..\..`} {
		_, err := Join(base, Segments("customers", id, "orders"), "", nil)
		assert.ErrorIs(t, err, ErrBadPath, "%q", id)
	}
}

// A ping path with a leading "/" starts at the origin's root; any other
// stays under the base path, like a call's.
func TestJoinPing(t *testing.T) {
	base, err := url.Parse("https://api.example.com/api/v2?tenant=7")
	require.NoError(t, err)
	for path, want := range map[string]string{
		"/health":        "https://api.example.com/health?tenant=7",
		"health":         "https://api.example.com/api/v2/health?tenant=7",
		"/status?deep=1": "https://api.example.com/status?tenant=7&deep=1",
		"status?deep=1":  "https://api.example.com/api/v2/status?tenant=7&deep=1",
		"/":              "https://api.example.com/?tenant=7",
	} {
		u, err := JoinPing(base, path)
		require.NoError(t, err, path)
		assert.Equal(t, want, u.String(), path)
	}
	for _, path := range []string{"/../x", "../x", "/health#x", "/%2e%2e/x"} {
		_, err := JoinPing(base, path)
		assert.ErrorIs(t, err, ErrBadPath, path)
	}
}

// An empty or "." segment given to Segments is refused by Join with the
// segment's number, not as a climb; no escaped value is taken for a mark.
func TestSegmentsEmptyRefusedByNumber(t *testing.T) {
	base, _ := url.Parse("https://api.example.com/v1")
	for path, want := range map[string]string{
		Segments("customers", ""):           "segment 2 is empty",
		Segments("", "x"):                   "segment 1 is empty",
		"/" + Segments("a", "b", "", "c"):   "segment 3 is empty",
		Segments("customers", "."):          `segment 2 is "."`,
		"v2//" + Segments("customers", "."): `segment 3 is "."`,
	} {
		_, err := Join(base, path, "", nil)
		require.ErrorIs(t, err, ErrBadPath, path)
		assert.Contains(t, err.Error(), want, path)
		assert.NotContains(t, err.Error(), "climbs", path)
	}
	u, err := Join(base, Segments("customers", "[empty]", "[.]"), "", nil)
	require.NoError(t, err, "a value that reads like a mark is escaped")
	assert.Equal(t, "https://api.example.com/v1/customers/%5Bempty%5D/%5B.%5D", u.String())
}
