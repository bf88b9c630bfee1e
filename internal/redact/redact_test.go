package redact

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestSecretNeverPrints(t *testing.T) {
	const v = "s3cr3t-value"
	s := NewSecret(v)
	type holder struct {
		S  Secret
		L  []Secret
		M  map[string]Secret
		P  *Secret
		In any
	}
	h := holder{S: s, L: []Secret{s}, M: map[string]Secret{"k": s}, P: &s, In: s}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%p"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h))
	}
	j, err := json.Marshal(h)
	require.NoError(t, err)
	y, err := yaml.Marshal(h)
	require.NoError(t, err)
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("x", "s", s, "h", h, "l", []Secret{s})
	slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "s", s, "h", h, "l", []Secret{s})
	out = append(out, string(j), string(y), text.String(), js.String())
	for _, o := range out {
		assert.NotContains(t, o, v)
	}
	assert.Contains(t, string(j), Mark)
	assert.Equal(t, v, s.Reveal())
	var back Secret
	require.NoError(t, json.Unmarshal([]byte(`"plain"`), &back))
	assert.Equal(t, "plain", back.Reveal())
	assert.Equal(t, "", NewSecret("").String())
}

func TestValuesLongestFirst(t *testing.T) {
	assert.Equal(t, "a "+Mark+" b "+Mark, Values("a abcdefgh b abcd", "abcd", "abcdefgh", ""))
	assert.Equal(t, "nothing", Values("nothing", "x1"))
	assert.Equal(t, "q="+Mark+" j="+Mark, Values(`q=p%2Fw%2Bx%3F j=p/w+x?`, "p/w+x?"), "escaped forms")
	assert.Equal(t, `{"s":"`+Mark+`"}`, Values(`{"s":"a\"b<c"}`, `a"b<c`), "JSON-escaped form")
	assert.Equal(t, "abc", Values("abc", "a"), "too short to scrub")
	for name, echoed := range map[string]string{
		"Jackson upper hex":           `{"e":"p\/w\u00F6rd\u0026x"}`,
		"PHP unescaped unicode":       `{"e":"p\/wörd&x"}`,
		"named HTML quote":            `<p>&quot;p/wörd&amp;x&quot;</p>`,
		"lowercase percent escape":    `q=p%2fw%c3%b6rd%26x`,
		"escaped slash and non-ASCII": `{"e":"p\/w\u00f6rd\u0026x"}`,
		"HTML entities":               `<p>p/wörd&amp;x</p>`,
		"Go-quoted":                   `error: "p/w\u00f6rd&x\n"`,
		"base64":                      `key cC93w7ZyZCZ4 refused`,
		"base64 padded":               `key cC93w7ZyZCZ4Cg== refused`,
		"base64url unpadded":          `key cC93w7ZyZCZ4Cg refused`,
	} {
		assert.NotContains(t, Values(echoed, "p/wörd&x", "p/wörd&x\n"), "rd", name)
		assert.NotContains(t, Values(echoed, "p/wörd&x", "p/wörd&x\n"), "cC93w7", name)
	}
}

func TestSent(t *testing.T) {
	r, _ := http.NewRequest("GET", "https://h/", nil)
	r.Header.Set("Authorization", "Bearer tok-123")
	r.Header.Set("X-Api-Key", "k-9")
	got := Sent(r, "X-API-Key")
	assert.Contains(t, got, "Bearer tok-123")
	assert.Contains(t, got, "tok-123")
	assert.Contains(t, got, "k-9")
	assert.Nil(t, Sent(nil))
}
