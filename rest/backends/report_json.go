package backends

import (
	"time"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/rest"
)

// The JSON views of what the handlers serve: the exported types hold
// time.Durations, the JSON has milliseconds (duration_ms, latency_ms,
// last_ms…). The field order is the one the handlers have always written.

// checkReportJSON is a [CheckReport] as JSON.
type checkReportJSON struct {
	OK          bool              `json:"ok"`
	Error       string            `json:"error,omitempty"`
	At          time.Time         `json:"at"`
	Tokens      []checkResultJSON `json:"tokens"`
	Connections []checkResultJSON `json:"connections"`
	Store       *cache.Status     `json:"store,omitempty"`
	DurationMS  float64           `json:"duration_ms"`
}

// checkResultJSON is a [CheckResult] as JSON.
type checkResultJSON struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	Security  string  `json:"security,omitempty"`
	Readiness string  `json:"readiness"`
	OK        bool    `json:"ok"`
	Error     string  `json:"error,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
}

// latencyJSON is a [rest.LatencySummary] as JSON, in milliseconds.
type latencyJSON struct {
	Last float64 `json:"last_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
}

// connStatusJSON is a connection's statistics with its kind, the latency
// in milliseconds (this field shadows the embedded one).
type connStatusJSON struct {
	Kind string `json:"kind"`
	rest.ConnStats
	Latency latencyJSON `json:"latency"`
}

// reportView is rep as JSON; nil stays nil.
func reportView(rep *CheckReport) *checkReportJSON {
	if rep == nil {
		return nil
	}
	v := &checkReportJSON{OK: rep.OK, Error: rep.Error, At: rep.At, Store: rep.Store, DurationMS: millis(rep.Duration),
		Tokens: resultsView(rep.Tokens), Connections: resultsView(rep.Connections)}
	return v
}

func resultsView(rs []CheckResult) []checkResultJSON {
	if rs == nil {
		return nil
	}
	out := make([]checkResultJSON, len(rs))
	for i, r := range rs {
		out[i] = checkResultJSON{Name: r.Name, Kind: r.Kind, Security: r.Security, Readiness: r.Readiness, OK: r.OK, Error: r.Error, LatencyMS: millis(r.Latency)}
	}
	return out
}

// connView is cs with its kind, as JSON.
func connView(kind string, cs rest.ConnStats) connStatusJSON {
	l := cs.Latency
	return connStatusJSON{Kind: kind, ConnStats: cs, Latency: latencyJSON{Last: millis(l.Last), Max: millis(l.Max),
		Mean: millis(l.Mean), P50: millis(l.P50), P95: millis(l.P95), P99: millis(l.P99)}}
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
