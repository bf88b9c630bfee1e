// Command authorize obtains the first refresh token of a refresh_token
// security definition: an administrator authorises the integration once,
// in a browser, with the authorization code grant and PKCE (RFC 7636,
// S256), and the refresh token is written where the definition reads it.
//
//	go run ./examples/authorize -config tokenwire.yaml -definition drive \
//	    -authorize-url https://login.example.com/oauth2/authorize
//
// The definition is read from the configuration file:
//
//	security:
//	  drive:
//	    type: oauth2
//	    grant: refresh_token
//	    token_url: https://login.example.com/oauth2/token
//	    client_id: integration          # registered with a loopback redirect
//	    client_secret: ${DRIVE_SECRET}  # or none, for a public client
//	    scopes: [files.read, offline_access]
//	    refresh_token: {file: /var/lib/integration/drive-refresh-token}
//
// The program listens on a loopback address of its own (RFC 8252 §7.3:
// http://127.0.0.1:<port>/callback, the port chosen by the kernel unless
// -port says otherwise), prints the authorization URL (and opens it with
// -open), checks that the redirect brings back the state it sent, redeems
// the code with its PKCE verifier at the token endpoint, and writes the
// refresh token to the definition's refresh_token file (or -out), mode
// 0600, replacing it atomically. The running service picks it up at its
// next refresh: a new value starts a new refresh token family, so a
// definition stopped by an invalid_grant recovers without a restart. The
// refresh token, the code and the verifier are never printed.
//
// -authorize-url may be left out when the definition has an issuer whose
// metadata (RFC 8414, OpenID Connect Discovery) names the authorization
// endpoint.
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, env{}); err != nil {
		fmt.Fprintln(os.Stderr, "authorize:", err)
		os.Exit(1)
	}
}

// env is what the tests replace: the browser, and the switch for
// plain-http fakes on 127.0.0.1.
type env struct {
	browse   func(ctx context.Context, url string) error // nil: print the URL (and open it with -open)
	insecure bool
}

// callbackPath is the path of the loopback redirect.
const callbackPath = "/callback"

// run is the whole program.
func run(ctx context.Context, args []string, w io.Writer, e env) error {
	fs := flag.NewFlagSet("authorize", flag.ContinueOnError)
	fs.SetOutput(w)
	configPath := fs.String("config", "tokenwire.yaml", "the configuration file")
	name := fs.String("definition", "", "the refresh_token security definition to authorise")
	authorizeURL := fs.String("authorize-url", "", "the authorization endpoint (default: from the issuer's metadata)")
	out := fs.String("out", "", "where to write the refresh token (default: the definition's refresh_token file)")
	port := fs.Int("port", 0, "the loopback port of the redirect (0: any free port)")
	open := fs.Bool("open", false, "open the authorization URL in the default browser")
	timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for the authorisation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var opts []rest.Option
	if e.insecure {
		opts = append(opts, rest.AllowInsecureHTTP())
	}
	cfg, err := backends.Load(*configPath, opts...)
	if err != nil {
		return err
	}
	sc, ok := cfg.Security[*name]
	switch {
	case *name == "":
		return errors.New("-definition is required")
	case !ok:
		return fmt.Errorf("%s has no security definition %q", *configPath, *name)
	case sc.Type != "oauth2" || !isRefresh(sc.Grant):
		return fmt.Errorf("security definition %q is not an oauth2 definition with grant: refresh_token", *name)
	}
	dest := *out
	if dest == "" {
		dest = refreshTokenFile(sc.Grant)
	}
	if dest == "" {
		return fmt.Errorf("security definition %q does not read its refresh token from a file: give refresh_token: {file: …}, or -out", *name)
	}
	oc := clientConfig(*name, sc)
	if *authorizeURL == "" {
		if *authorizeURL, err = discover(ctx, sc.Issuer); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))) // RFC 8252 §7.3: a loopback IP literal
	if err != nil {
		return fmt.Errorf("listening for the redirect: %w", err)
	}
	redirect := "http://" + ln.Addr().String() + callbackPath
	pkce, state := oauthclient.NewPKCE(), oauthclient.NewState()
	u, err := oauthclient.AuthCodeURL(*authorizeURL, oc, redirect, state, pkce)
	if err != nil {
		ln.Close()
		return err
	}
	answers := make(chan answer, 1)
	srv := &http.Server{Handler: callback(state, answers, w), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(w, "Authorise %q: open this URL in a browser and sign in as the administrator:\n\n  %s\n\n", *name, u)
	fmt.Fprintf(w, "Waiting for the redirect to %s (up to %s)…\n", redirect, *timeout)
	browse := e.browse
	if browse == nil && *open {
		browse = openBrowser
	}
	if browse != nil {
		go func() {
			if err := browse(ctx, u); err != nil {
				fmt.Fprintf(w, "could not open the browser (%v): open the URL yourself\n", err)
			}
		}()
	}
	var a answer
	select {
	case a = <-answers:
	case <-ctx.Done():
		return fmt.Errorf("no authorisation came back: %w", context.Cause(ctx))
	}
	if a.err != nil {
		return a.err
	}
	fmt.Fprintln(w, "Authorised; redeeming the code with its PKCE verifier…")
	_, refresh, err := oauthclient.ExchangeCode(ctx, oc, oauthclient.Options{AllowInsecureHTTP: e.insecure}, a.code, redirect, pkce.Verifier)
	if err != nil {
		return err
	}
	if refresh.IsZero() {
		return errors.New("the authorization server issued no refresh token (does the client need the offline_access scope, or refresh tokens enabled?)")
	}
	if err := writeSecret(dest, refresh.Reveal()); err != nil {
		return err
	}
	fmt.Fprintf(w, "Refresh token written to %s (mode 0600). The definition uses it from its next refresh on, as a new refresh token family.\n", dest)
	return nil
}

// answer is what the redirect brought back.
type answer struct {
	code string
	err  error
}

// callback serves the loopback redirect: one answer whose state is the
// one sent; a request with another state is refused and the wait goes on
// (it is not the answer to this program's request).
func callback(state string, answers chan<- answer, w io.Writer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(callbackPath, func(rw http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			fmt.Fprintln(w, "refused a redirect whose state is not this request's")
			http.Error(rw, "state does not match this authorisation request", http.StatusBadRequest)
			return
		}
		var a answer
		switch code := q.Get("code"); {
		case q.Get("error") != "":
			a.err = fmt.Errorf("the authorization server answered %s: %s", q.Get("error"), q.Get("error_description"))
			http.Error(rw, "tokenwire: the authorisation failed: "+q.Get("error"), http.StatusOK)
		case code == "":
			http.Error(rw, "no code", http.StatusBadRequest)
			return
		default:
			a.code = code
			_, _ = io.WriteString(rw, "tokenwire: authorised. You may close this window.\n")
		}
		select {
		case answers <- a:
		default: // answered already
		}
	})
	return mux
}

// clientConfig is the definition's client, as the token request of the
// code needs it.
func clientConfig(name string, sc backends.SecurityConfig) oauthclient.Config {
	cfg := sc.Config
	cfg.Name, cfg.Grant = name, nil
	return cfg
}

// isRefresh reports whether g is the refresh token grant.
func isRefresh(g oauthclient.Grant) bool {
	_, ok := g.(oauthclient.RefreshToken)
	return ok
}

// refreshTokenFile is the file the refresh token grant g reads its token
// from, as the configuration file says (refresh_token: {file: …}); "" for
// none. It is read from the grant's JSON, which is the file's.
func refreshTokenFile(g oauthclient.Grant) string {
	b, err := json.Marshal(g)
	var v struct {
		RefreshToken struct {
			File string `json:"file"`
		} `json:"refresh_token"`
	}
	if err != nil || json.Unmarshal(b, &v) != nil {
		return ""
	}
	return v.RefreshToken.File
}

// discover reads the authorization endpoint from the issuer's metadata.
func discover(ctx context.Context, issuer string) (string, error) {
	if issuer == "" {
		return "", errors.New("-authorize-url is required (the definition has no issuer whose metadata names it)")
	}
	iu, err := url.Parse(issuer)
	if err != nil || iu.Host == "" {
		return "", fmt.Errorf("issuer %q is not a URL", issuer)
	}
	docs := []string{iu.Scheme + "://" + iu.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(iu.Path, "/"),
		strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"}
	for _, d := range docs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d, nil)
		if err != nil {
			return "", err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", d, err)
		}
		var m struct {
			AuthorizationEndpoint string `json:"authorization_endpoint"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil && m.AuthorizationEndpoint != "" {
			return m.AuthorizationEndpoint, nil
		}
	}
	return "", fmt.Errorf("the metadata of %s names no authorization endpoint: give -authorize-url", issuer)
}

// writeSecret replaces the file at path with v, mode 0600, atomically.
func writeSecret(path, v string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".refresh-token-*")
	if err != nil {
		return fmt.Errorf("writing the refresh token: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, nothing is there
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("writing the refresh token: %w", err)
	}
	_, err = io.WriteString(f, v+"\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing the refresh token to %s: %w", path, err)
	}
	return nil
}

// openBrowser opens u in the default browser.
func openBrowser(ctx context.Context, u string) error {
	switch runtime.GOOS {
	case "darwin":
		return exec.CommandContext(ctx, "open", u).Run()
	case "windows":
		return exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", u).Run()
	}
	return exec.CommandContext(ctx, "xdg-open", u).Run()
}
