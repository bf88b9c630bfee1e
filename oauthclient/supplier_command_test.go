package oauthclient_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// echoHelperEnv makes TestCommandHelperEchoesItsArgument a credential
// helper that refuses, echoing its last argument in every form.
const echoHelperEnv = "TOKENWIRE_ECHO_HELPER"

// TestCommandHelperEchoesItsArgument is the credential helper of
// TestCommandSupplierScrubsItsArguments, run as a command.
func TestCommandHelperEchoesItsArgument(t *testing.T) {
	if os.Getenv(echoHelperEnv) == "" {
		t.Skip("the helper of TestCommandSupplierScrubsItsArguments")
	}
	form, a := os.Args[len(os.Args)-2], os.Args[len(os.Args)-1]
	fmt.Fprintf(os.Stderr, "key %s refused\nsecond line %s\n", echoForms(a)[form], a)
	os.Exit(1)
}

// echoForms are the ways a helper may print its argument.
func echoForms(a string) map[string]string {
	j, _ := json.Marshal(map[string]string{"key": a})
	return map[string]string{"plain": a, "quoted": strconv.Quote(a), "ASCII-quoted": strconv.QuoteToASCII(a),
		"query-escaped": url.QueryEscape(a), "path-escaped": url.PathEscape(a), "JSON": string(j), "HTML": html.EscapeString(a),
		"base64": base64.StdEncoding.EncodeToString([]byte(a)), "base64url": base64.URLEncoding.EncodeToString([]byte(a)),
		"base64 unpadded": base64.RawStdEncoding.EncodeToString([]byte(a))}
}

// A command's arguments are secrets: one echoed on its standard error, in
// any form, reaches no error, rendering, log or status.
func TestCommandSupplierScrubsItsArguments(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	t.Setenv(echoHelperEnv, "1")
	const secret = `SECRETARG/ärg+x y&z"q<`
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)

	sups := map[string]oauthclient.Supplier{
		"shell": oauthclient.CommandSupplier("/bin/sh", "-c", `echo "key $1 refused" >&2; exit 1`, "sh", secret),
	}
	for form := range echoForms(secret) {
		sups[form] = oauthclient.CommandSupplier(os.Args[0], "-test.run=^TestCommandHelperEchoesItsArgument$",
			"-test.count=1", "--", form, secret)
	}
	for name, sup := range sups {
		t.Run(name, func(t *testing.T) {
			var logs logbuf.Buffer
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: as.TokenURL(),
				Grant: oauthclient.JWTBearer{Assertion: sup}},
				oauthclient.Options{AllowInsecureHTTP: true, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			require.NoError(t, err)
			t.Cleanup(src.Close)

			_, err = src.TokenContext(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), `security definition "crm": assertion: command `)
			assert.Contains(t, err.Error(), "exit status 1: key ")
			assert.Contains(t, err.Error(), " refused")
			assert.Contains(t, logs.String(), " refused", "the failure is logged")
			assert.Contains(t, err.Error(), "[redacted]")
			rendertest.NoSecret(t, "error", err, secret)

			st := src.Status()
			assert.Contains(t, st.LastError, "[redacted]")
			rendertest.NoSecret(t, "status", st, secret)
			rendertest.NoSecret(t, "last error", st.LastError, secret)
			for _, text := range []string{logs.String(), st.LastError, err.Error()} {
				for _, form := range []string{"SECRETARG", "SECRETARG" + strings.TrimPrefix(strconv.Quote(secret), `"SECRETARG`),
					base64.RawStdEncoding.EncodeToString([]byte(secret))[:12]} {
					assert.NotContains(t, text, form)
				}
			}
		})
	}
}
