package oauthclient

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client_secret_post secret reflected escaped — JSON with \/ and \u
// escapes, or HTML entities — is scrubbed from the error like a plain one.
func TestReflectedEscapedSecretScrubbed(t *testing.T) {
	const secret = "p/wörd&x<y>-0123"
	for name, echo := range map[string]func(string) string{
		"json escaped": func(s string) string {
			return strings.NewReplacer("/", `\/`, "ö", `\u00f6`, "&", `\u0026`, "<", `\u003c`, ">", `\u003e`).Replace(s)
		},
		"html escaped": html.EscapeString,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<html>upstream said: " + echo(r.PostForm.Get("client_secret")) + "</html>"))
			}))
			t.Cleanup(srv.Close)
			s, err := NewSource(Config{Name: "e", TokenURL: srv.URL, ClientID: "id", ClientSecret: NewSecret(secret), AuthMethod: AuthClientSecretPost},
				Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			_, err = s.TokenContext(context.Background())
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "0123", "no part of the secret: %v", err)
		})
	}
}
