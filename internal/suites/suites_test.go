package suites

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// env is an Env with these variables and these programs on PATH.
func env(vars map[string]string, programs ...string) Env {
	return Env{
		Getenv: func(k string) string { return vars[k] },
		LookPath: func(name string) (string, error) {
			for _, p := range programs {
				if p == name {
					return "/usr/bin/" + name, nil
				}
			}
			return "", errors.New(name + ": not found")
		},
	}
}

// started is what .ci/run exports of the servers it starts.
var started = map[string]string{"TOKENWIRE_OIDC_DIR": "/tmp/oidc", "TOKENWIRE_FHIR_URL": "http://127.0.0.1:1/fhir/R4"}

// everything is what .ci/run installs and starts.
var everything = []string{"redis-server", "redis-sentinel", "redis-cli", "chromium", "chromedriver", "node"}

func TestMissing(t *testing.T) {
	oidc := map[string]string{"TOKENWIRE_OIDC_DIR": "/tmp/oidc"}
	for _, tc := range []struct {
		name  string
		suite *Suite
		env   Env
		want  string
	}{
		{"redis there", Redis, env(nil, "redis-server"), ""},
		{"redis gone", Redis, env(nil, "redis-sentinel", "redis-cli"), "no redis-server on PATH"},
		{"sentinel there", Sentinel, env(nil, "redis-server", "redis-sentinel"), ""},
		{"sentinel gone", Sentinel, env(nil, "redis-server"), "no redis-sentinel on PATH"},
		{"sentinel without redis", Sentinel, env(nil), "no redis-server, redis-sentinel on PATH"},
		{"cluster there", Cluster, env(nil, "redis-server", "redis-cli"), ""},
		{"cluster gone", Cluster, env(nil, "redis-server", "redis-sentinel"), "no redis-cli on PATH"},
		{"browser there", Browser, env(nil, "chromium", "chromedriver"), ""},
		{"browser, other names", Browser, env(nil, "google-chrome", "chromedriver"), ""},
		{"browser from variables", Browser, env(map[string]string{"TOKENWIRE_CHROMIUM": "/opt/c", "TOKENWIRE_CHROMEDRIVER": "/opt/d"}), ""},
		{"no driver", Browser, env(nil, "chromium"), "no chromedriver on PATH"},
		{"no browser", Browser, env(nil), "no chromium, chromedriver on PATH"},
		{"interop started", Interop, env(oidc), ""},
		{"interop not started", Interop, env(nil, "node"), "TOKENWIRE_OIDC_DIR unset: oidc-provider not started"},
		{"interop without node", Interop, env(nil), "TOKENWIRE_OIDC_DIR unset, no node on PATH"},
		{"fhir server started", FHIR, env(map[string]string{"TOKENWIRE_FHIR_URL": "http://127.0.0.1:1/fhir/R4"}), ""},
		{"fhir server not started", FHIR, env(nil, "node"), "TOKENWIRE_FHIR_URL unset: the FHIR server not started"},
		{"fhir server without node", FHIR, env(nil), "TOKENWIRE_FHIR_URL unset, no node on PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.suite.missing(tc.env))
		})
	}
}

func TestChromium(t *testing.T) {
	c, d := Chromium(env(map[string]string{"TOKENWIRE_CHROMIUM": "/opt/chrome"}, "chromium", "chromedriver"))
	assert.Equal(t, [2]string{"/opt/chrome", "/usr/bin/chromedriver"}, [2]string{c, d}, "the variable first, then PATH")
	c, d = Chromium(env(nil, "chromium-browser"))
	assert.Equal(t, [2]string{"/usr/bin/chromium-browser", ""}, [2]string{c, d})
}

func TestSkips(t *testing.T) {
	bare := env(nil)
	for _, s := range all {
		assert.True(t, s.skips(bare), s.Name)
		assert.False(t, s.skips(env(map[string]string{"CI": "true"})), "%s: CI never skips", s.Name)
	}
	assert.False(t, Interop.skips(env(map[string]string{"TOKENWIRE_REQUIRE_OIDC": "1"})), "required by its own variable")
	assert.True(t, Redis.skips(env(map[string]string{"TOKENWIRE_REQUIRE_OIDC": "1"})), "which is the interop suite's only")
	assert.False(t, FHIR.skips(env(map[string]string{"TOKENWIRE_REQUIRE_FHIR": "1"})), "required by its own variable")
	assert.True(t, Interop.skips(env(map[string]string{"TOKENWIRE_REQUIRE_FHIR": "1"})), "which is the fhir suite's only")
	for _, s := range all {
		assert.False(t, s.skips(env(started, everything...)), s.Name)
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  Env
		want string
	}{
		{"everything", env(started, everything...), ""},
		{"CI: failures, not skips", env(map[string]string{"CI": "true"}), ""},
		{"only the suites of servers", env(nil, everything...),
			"tokenwire: skipped suites: oauthclient interop with oidc-provider (TOKENWIRE_OIDC_DIR unset: oidc-provider not started), " +
				"fhir against a real FHIR server (TOKENWIRE_FHIR_URL unset: the FHIR server not started)" +
				" — run .ci/run to install and start them"},
		{"no redis-server, no node", env(nil, "redis-sentinel", "redis-cli", "chromium", "chromedriver"),
			"tokenwire: skipped suites: cache/redis and the oauthclient fleet tests (no redis-server on PATH), " +
				"cache/redis Sentinel (no redis-server on PATH), cache/redis Cluster (no redis-server on PATH), " +
				"oauthclient interop with oidc-provider (TOKENWIRE_OIDC_DIR unset, no node on PATH), " +
				"fhir against a real FHIR server (TOKENWIRE_FHIR_URL unset, no node on PATH)" +
				" — run .ci/run to install and start them"},
		{"nothing", env(nil),
			"tokenwire: skipped suites: cache/redis and the oauthclient fleet tests (no redis-server on PATH), " +
				"cache/redis Sentinel (no redis-server, redis-sentinel on PATH), cache/redis Cluster (no redis-server, redis-cli on PATH), " +
				"examples/integration browser test (no chromium, chromedriver on PATH), " +
				"oauthclient interop with oidc-provider (TOKENWIRE_OIDC_DIR unset, no node on PATH), " +
				"fhir against a real FHIR server (TOKENWIRE_FHIR_URL unset, no node on PATH)" +
				" — run .ci/run to install and start them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Summary(tc.env))
		})
	}
}

// fakeTB records Skipf and Fatalf, which end the test, as panics.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	panic("skip")
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic("fatal")
}

func check(s *Suite, e Env) *fakeTB {
	ft := &fakeTB{}
	func() {
		defer func() { _ = recover() }()
		s.check(ft, e)
	}()
	return ft
}

func TestRequire(t *testing.T) {
	ft := check(Sentinel, env(nil, "redis-server", "redis-sentinel"))
	assert.Equal(t, fakeTB{}, *ft, "runs")

	ft = check(Sentinel, env(nil, "redis-server"))
	assert.Empty(t, ft.failed)
	assert.Equal(t, "cache/redis Sentinel: no redis-sentinel on PATH (apt-get install -y redis-server redis-sentinel)", ft.skipped)

	ft = check(Sentinel, env(map[string]string{"CI": "true"}, "redis-server"))
	assert.Empty(t, ft.skipped, "under CI a missing binary fails the test")
	assert.Equal(t, "cache/redis Sentinel: no redis-sentinel on PATH (apt-get install -y redis-server redis-sentinel); CI is set, so the suite must run, not skip", ft.failed)

	ft = check(Interop, env(map[string]string{"TOKENWIRE_REQUIRE_OIDC": "1"}, "node"))
	assert.Empty(t, ft.skipped)
	assert.Contains(t, ft.failed, "TOKENWIRE_OIDC_DIR unset: oidc-provider not started")
	assert.Contains(t, ft.failed, "TOKENWIRE_REQUIRE_OIDC is set")
}

// The line names exactly the suites whose Require skips: over every
// subset of the programs, with and without CI and the interop variables.
func TestSummaryNamesExactlyTheSkippedSuites(t *testing.T) {
	for mask := range 1 << len(everything) {
		var progs []string
		for i, p := range everything {
			if mask&(1<<i) != 0 {
				progs = append(progs, p)
			}
		}
		for _, vars := range []map[string]string{nil, {"CI": "true"}, {"TOKENWIRE_OIDC_DIR": "/tmp/oidc"}, {"TOKENWIRE_REQUIRE_OIDC": "1"},
			{"TOKENWIRE_FHIR_URL": "http://127.0.0.1:1/fhir/R4"}, {"TOKENWIRE_REQUIRE_FHIR": "1"}} {
			e := env(vars, progs...)
			line := Summary(e)
			someSkipped := false
			for _, s := range all {
				ft := check(s, e)
				skipped := ft.skipped != ""
				someSkipped = someSkipped || skipped
				assert.Equal(t, skipped, strings.Contains(line, s.Name+" ("), "%s with %v and %v: %q", s.Name, progs, vars, line)
				if skipped {
					assert.Contains(t, line, s.Name+" ("+s.missing(e)+")")
				}
			}
			assert.Equal(t, someSkipped, line != "", "%v %v", progs, vars)
		}
	}
}
