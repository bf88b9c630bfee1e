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
		{name: "query in path", base: "https://api.example.com/v1", path: "customers?status=open", want: "https://api.example.com/v1/customers?status=open"},
		{name: "query values encoded", base: "https://api.example.com/v1", path: "search", query: url.Values{"q": {"a&b=c d"}}, want: "https://api.example.com/v1/search?q=a%26b%3Dc+d"},
		{name: "all queries merged", base: "https://api.example.com/v1?tenant=7", path: "search?x=1", query: url.Values{"y": {"2"}}, want: "https://api.example.com/v1/search?tenant=7&x=1&y=2"},
		{name: "bad path query", base: "https://api.example.com", path: "search?x=%zz", bad: true},
		{name: "credentials dropped", base: "https://user:pw@api.example.com/v1", path: "x", want: "https://api.example.com/v1/x"},
		{name: "port kept", base: "http://127.0.0.1:8080/api", path: "x", want: "http://127.0.0.1:8080/api/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := url.Parse(tt.base)
			require.NoError(t, err)
			got, err := Join(base, tt.path, tt.query)
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
		u, err := Join(base, p, nil)
		if err != nil {
			return
		}
		if u.Host != "api.example.com" || u.Scheme != "https" {
			t.Fatalf("%q escaped the origin: %s", p, u)
		}
		if u.Path != "/base" && !hasPrefix(u.Path, "/base/") {
			t.Fatalf("%q escaped the base path: %s", p, u)
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
