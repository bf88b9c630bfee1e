package oauthclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// paramSecret is the value of a secret extra parameter (a vendor's API key
// sent in the token request's form).
const paramSecret = "param-SECRET-7781"

func configWithParams() oauthclient.Config {
	return oauthclient.Config{Name: "crm", TokenURL: "https://idp.example.com/t", ClientID: "svc",
		Params: map[string]oauthclient.Secret{"api_key": oauthclient.NewSecret(paramSecret), "tenant": oauthclient.NewSecret("acme-tenant")}}
}

// A Config's params never print: not alone, not in a caller's struct (an
// unexported field, which fmt prints without asking the Config), not by
// reflection-driven printers.
func TestConfigParamsNeverPrint(t *testing.T) {
	cfg := configWithParams()
	type service struct { // how a caller keeps its configuration
		name string
		cfg  oauthclient.Config
	}
	type options struct {
		Params map[string]oauthclient.Secret
		params map[string]oauthclient.Secret
	}
	for name, v := range map[string]any{
		"Config": cfg, "*Config": &cfg, "Params": cfg.Params,
		"unexported field": service{"crm", cfg}, "*unexported field": &service{"crm", cfg},
		"Params in a caller's struct": options{cfg.Params, cfg.Params},
	} {
		rendertest.NoSecret(t, name, v, paramSecret, "acme-tenant")
		for _, verb := range rendertest.Verbs {
			assert.NotContains(t, fmt.Sprintf(verb, v), paramSecret, "%s %s", name, verb)
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("cfg", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("cfg", "v", v)
		j, err := json.Marshal(v)
		require.NoError(t, err)
		y, err := yaml.Marshal(v)
		require.NoError(t, err)
		for how, out := range map[string]string{"slog text": text.String(), "slog JSON": js.String(), "json": string(j), "yaml": string(y)} {
			assert.NotContains(t, out, paramSecret, "%s by %s", name, how)
		}
	}
}

// Params are sent as they are, in token requests and on the authorization
// URL, and blanked from what a server echoes.
func TestConfigParamsAreSentAndNeverEchoed(t *testing.T) {
	sent := make(chan url.Values, 1)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		sent <- r.PostForm
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(idp.Close)

	cfg := configWithParams()
	cfg.TokenURL, cfg.ClientSecret = idp.URL, oauthclient.NewSecret("svc-secret")
	src, err := oauthclient.NewSource(cfg, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	_, err = src.TokenContext(context.Background())
	require.NoError(t, err)
	form := <-sent
	assert.Equal(t, paramSecret, form.Get("api_key"))
	assert.Equal(t, "acme-tenant", form.Get("tenant"))

	u, err := oauthclient.AuthCodeURL("https://idp.example.com/authorize", cfg, "http://127.0.0.1:8080/cb", oauthclient.NewState(), oauthclient.NewPKCE())
	require.NoError(t, err)
	authorize, err := url.Parse(u)
	require.NoError(t, err)
	assert.Equal(t, paramSecret, authorize.Query().Get("api_key"))

	cfg.TokenURL = newEchoServer(t).URL
	echoed, err := oauthclient.NewSource(cfg, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(echoed.Close)
	_, err = echoed.TokenContext(context.Background())
	require.Error(t, err)
	rendertest.NoSecret(t, "error", err, paramSecret)
	rendertest.NoSecret(t, "status", echoed.Status(), paramSecret)
}
