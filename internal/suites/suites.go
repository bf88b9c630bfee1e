// Package suites is the one home of the test suites that need a program
// this machine may not have — Redis, Chromium, the oidc-provider, a real
// FHIR server — : what
// each needs, whether it is there, and what runs it.
//
// A test of such a suite calls [Suite.Require] first, which skips it with
// the reason, or fails it when the environment variable CI is set: CI
// (.ci/run) installs and starts everything, and must never pass by
// skipping. The go command shows nothing of a passing package without -v,
// so a skip is silent; [Summary] is the one line that names the suites
// that skipped on this machine, which the last package of go list ./...
// prints after its tests.
package suites

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Env is what decides whether a suite runs: environment variables and the
// programs on PATH. Tests inject their own.
type Env struct {
	Getenv   func(string) string
	LookPath func(string) (string, error)
}

// OS is the environment of this process.
func OS() Env { return Env{Getenv: os.Getenv, LookPath: exec.LookPath} }

// has reports whether a program is on PATH.
func (e Env) has(name string) bool {
	_, err := e.LookPath(name)
	return err == nil
}

// find returns the program named by the variable env, else the first of
// names on PATH, else "".
func (e Env) find(env string, names ...string) string {
	if p := e.Getenv(env); p != "" {
		return p
	}
	for _, n := range names {
		if p, err := e.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// Suite is a set of tests that need something this machine may lack.
type Suite struct {
	// Name says which tests, as the summary line names them.
	Name string
	// Install says how to get what is missing on Debian and Ubuntu.
	Install string
	// require names variables that, besides CI, forbid skipping.
	require []string
	// missing says what is missing, "" when the suite can run.
	missing func(Env) string
}

// Run .ci/run to install and start everything.
const ciRun = "run .ci/run to install and start them"

// The suites, in the order the summary names them.
var (
	// Redis is every test against a real redis-server: the cache/redis
	// store, the fleet and refresh tests of oauthclient, and redistest.
	Redis = &Suite{Name: "cache/redis and the oauthclient fleet tests", Install: "apt-get install -y redis-server",
		missing: programs("redis-server")}
	// Sentinel is the failover tests through Redis Sentinel.
	Sentinel = &Suite{Name: "cache/redis Sentinel", Install: "apt-get install -y redis-server redis-sentinel",
		missing: programs("redis-server", "redis-sentinel")}
	// Cluster is the tests against a Redis Cluster, which redis-cli
	// creates.
	Cluster = &Suite{Name: "cache/redis Cluster", Install: "apt-get install -y redis-server redis-tools",
		missing: programs("redis-server", "redis-cli")}
	// Browser is the status page's test in headless Chromium
	// (examples/integration), driven through chromedriver.
	Browser = &Suite{Name: "examples/integration browser test",
		Install: "apt-get install -y chromium chromium-driver, or set TOKENWIRE_CHROMIUM and TOKENWIRE_CHROMEDRIVER",
		missing: func(e Env) string {
			chromium, driver := Chromium(e)
			return list([]string{"chromium", "chromedriver"}, []bool{chromium == "", driver == ""})
		}}
	// Interop is oauthclient's suite against a real, OpenID-certified
	// authorization server (oidc-provider on node), which .ci/run starts
	// and names in TOKENWIRE_OIDC_DIR.
	Interop = &Suite{Name: "oauthclient interop with oidc-provider",
		Install: "run .ci/run, which starts it with node and sets TOKENWIRE_OIDC_DIR; by hand: npm ci in .ci/oidc, then node provider.mjs",
		require: []string{"TOKENWIRE_REQUIRE_OIDC"},
		missing: func(e Env) string {
			if e.Getenv("TOKENWIRE_OIDC_DIR") != "" {
				return ""
			}
			if !e.has("node") {
				return "TOKENWIRE_OIDC_DIR unset, no node on PATH"
			}
			return "TOKENWIRE_OIDC_DIR unset: oidc-provider not started"
		}}
)

// FHIR is the fhir tests that run against a real FHIR server as well as
// fhirtest (fhir/servers_test.go): Medplum's FHIR router on node, which
// .ci/run starts and names in TOKENWIRE_FHIR_URL.
var FHIR = &Suite{Name: "fhir against a real FHIR server",
	Install: "run .ci/run, which starts it with node and sets TOKENWIRE_FHIR_URL and TOKENWIRE_OIDC_DIR, whose tokens it wants; " +
		"by hand: npm ci in .ci/fhir, then FHIR_OUT=<dir> node .ci/fhir/server.mjs",
	require: []string{"TOKENWIRE_REQUIRE_FHIR"},
	missing: func(e Env) string {
		if e.Getenv("TOKENWIRE_FHIR_URL") != "" {
			return ""
		}
		if !e.has("node") {
			return "TOKENWIRE_FHIR_URL unset, no node on PATH"
		}
		return "TOKENWIRE_FHIR_URL unset: the FHIR server not started"
	}}

// all is every suite, in the order the summary names them.
var all = []*Suite{Redis, Sentinel, Cluster, Browser, Interop, FHIR}

// programs is the check of a suite that needs these programs on PATH.
func programs(names ...string) func(Env) string {
	return func(e Env) string {
		gone := make([]bool, len(names))
		for i, n := range names {
			gone[i] = !e.has(n)
		}
		return list(names, gone)
	}
}

// list is "no a, b on PATH" for the names that are gone, or "".
func list(names []string, gone []bool) string {
	var out []string
	for i, n := range names {
		if gone[i] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "no " + strings.Join(out, ", ") + " on PATH"
}

// Chromium returns the paths of chromium and chromedriver: from
// TOKENWIRE_CHROMIUM and TOKENWIRE_CHROMEDRIVER (which .ci/run exports),
// else from PATH; "" for one not found.
func Chromium(e Env) (chromium, driver string) {
	return e.find("TOKENWIRE_CHROMIUM", "chromium", "chromium-browser", "google-chrome"),
		e.find("TOKENWIRE_CHROMEDRIVER", "chromedriver")
}

// strict returns the variable of e that forbids skipping: CI, or one of
// the suite's own; "" when none is set.
func (s *Suite) strict(e Env) string {
	for _, v := range append([]string{"CI"}, s.require...) {
		if e.Getenv(v) != "" {
			return v
		}
	}
	return ""
}

// skips reports whether the suite skips in e: something is missing and
// nothing forbids skipping.
func (s *Suite) skips(e Env) bool { return s.strict(e) == "" && s.missing(e) != "" }

// Require skips the test when the suite cannot run on this machine, with
// what is missing and how to get it; when CI (or a variable of the suite)
// is set it fails the test instead.
func (s *Suite) Require(tb testing.TB) {
	tb.Helper()
	s.check(tb, OS())
}

func (s *Suite) check(tb testing.TB, e Env) {
	tb.Helper()
	miss := s.missing(e)
	if miss == "" {
		return
	}
	if v := s.strict(e); v != "" {
		tb.Fatalf("%s: %s (%s); %s is set, so the suite must run, not skip", s.Name, miss, s.Install, v)
	}
	tb.Skipf("%s: %s (%s)", s.Name, miss, s.Install)
}

// Summary is the line naming the suites that skip in e and why, or ""
// when none does:
//
//	tokenwire: skipped suites: cache/redis Cluster (no redis-cli on PATH) — run .ci/run to install and start them
func Summary(e Env) string {
	var skipped []string
	for _, s := range all {
		if s.skips(e) {
			skipped = append(skipped, s.Name+" ("+s.missing(e)+")")
		}
	}
	if len(skipped) == 0 {
		return ""
	}
	return "tokenwire: skipped suites: " + strings.Join(skipped, ", ") + " — " + ciRun
}
