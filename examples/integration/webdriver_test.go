package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/suites"
)

// This file drives a headless Chromium through chromedriver's W3C
// WebDriver HTTP protocol, with net/http: no browser library.

// findBrowser returns the paths of chromium and chromedriver (see
// suites.Chromium). Without them the test skips, or fails when CI is set.
func findBrowser(t *testing.T) (chromium, driver string) {
	t.Helper()
	suites.Browser.Require(t)
	return suites.Chromium(suites.OS())
}

// webDriver is one browser session.
type webDriver struct {
	t    *testing.T
	base string // http://127.0.0.1:port/session/id
}

var driverPort = regexp.MustCompile(`started successfully on port (\d+)`)

// startBrowser starts chromedriver on a loopback port it picks, and a
// headless Chromium session with a fresh profile; both end at cleanup.
func startBrowser(t *testing.T, chromium, driver string) *webDriver {
	t.Helper()
	cmd := exec.Command(driver, "--port=0")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	port := make(chan string, 1)
	go func() { // reads until chromedriver exits, so that it never blocks on a full pipe
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := driverPort.FindStringSubmatch(sc.Text()); m != nil {
				port <- m[1]
			}
		}
		close(port)
	}()
	p, ok := <-port
	require.True(t, ok, "chromedriver did not say which port it listens on")

	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--window-size=1280,1000", "--user-data-dir=" + t.TempDir(),
		}},
	}}}
	wd := &webDriver{t: t, base: "http://127.0.0.1:" + p}
	var session struct {
		SessionID string `json:"sessionId"`
	}
	wd.call(http.MethodPost, "/session", caps, &session)
	require.NotEmpty(t, session.SessionID)
	wd.base += "/session/" + session.SessionID
	t.Cleanup(func() { wd.call(http.MethodDelete, "", nil, nil) })
	wd.call(http.MethodPost, "/timeouts", map[string]int{"implicit": 10000, "pageLoad": 30000}, nil)
	return wd
}

// call sends one WebDriver command and decodes its "value" into out.
func (wd *webDriver) call(method, path string, in, out any) {
	wd.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(wd.t, err)
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, wd.base+path, body)
	require.NoError(wd.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(wd.t, err)
	defer resp.Body.Close()
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	raw, err := io.ReadAll(resp.Body)
	require.NoError(wd.t, err)
	require.NoError(wd.t, json.Unmarshal(raw, &v), "%s", raw)
	require.Equal(wd.t, http.StatusOK, resp.StatusCode, "WebDriver %s %s: %s", method, path, cutText(string(raw), 600))
	if out != nil {
		require.NoError(wd.t, json.Unmarshal(v.Value, out))
	}
}

func (wd *webDriver) open(url string) {
	wd.call(http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

func (wd *webDriver) source() string {
	var s string
	wd.call(http.MethodGet, "/source", nil, &s)
	return s
}

func (wd *webDriver) url() string {
	var s string
	wd.call(http.MethodGet, "/url", nil, &s)
	return s
}

// find returns the element a CSS selector names, waiting for it up to the
// session's implicit timeout.
func (wd *webDriver) find(css string) string {
	var el map[string]string
	wd.call(http.MethodPost, "/element", map[string]string{"using": "css selector", "value": css}, &el)
	for _, id := range el {
		return id
	}
	wd.t.Fatalf("no element for %s", css)
	return ""
}

func (wd *webDriver) click(css string) {
	wd.call(http.MethodPost, fmt.Sprintf("/element/%s/click", wd.find(css)), map[string]any{}, nil)
}

func (wd *webDriver) text(css string) string {
	var s string
	wd.call(http.MethodGet, fmt.Sprintf("/element/%s/text", wd.find(css)), nil, &s)
	return s
}

// screenshot returns a PNG of the window.
func (wd *webDriver) screenshot() []byte {
	var s string
	wd.call(http.MethodGet, "/screenshot", nil, &s)
	png, err := base64.StdEncoding.DecodeString(s)
	require.NoError(wd.t, err)
	return png
}

func cutText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return strings.TrimSpace(s)
}
