// Command integration is tokenwire's integration pattern end to end: a
// service names its backends once in a configuration file, then serves a
// composite call (a customer summary from a CRM behind OAuth, a billing
// API behind an API key, and an EHR's FHIR API behind SMART Backend
// Services) while tokenwire fetches, caches, renews and attaches the
// tokens.
//
//	go run ./examples/integration                      # in-process fakes, no network
//	go run ./examples/integration -serve :8080         # the same, as an HTTP service (status page: /debug/tokenwire/)
//	go run ./examples/integration -config prod.yaml C001 C002
//	go run ./examples/integration -h                   # usage
//
// With no -config it starts in-process fakes (an authorization server, the
// CRM and billing APIs, and a FHIR server with its own SMART authorization
// server) and shows what happened to tokens: one token request per
// security definition for a whole batch of calls, a renewal when the
// tokens' lifetime passes, and a recovery when the CRM rejects a revoked
// token.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

//go:embed config.yaml
var defaultConfig []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
}

var demoIDs = []string{"C001", "C002", "C003", "C004", "C005", "C006", "C007", "C008"}

// run is the whole program; the test calls it. -h prints the usage and
// returns nil.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("integration", flag.ContinueOnError)
	fs.SetOutput(stdout)
	configFile := fs.String("config", "", "configuration `file` naming real crm and billing connections, and optionally an ehr FHIR connection (default: embedded, with in-process fakes)")
	serve := fs.String("serve", "", "serve GET /customers/{id}/summary, /readyz and the status page /debug/tokenwire/ on `addr` instead of running the demo")
	insecure := fs.Bool("insecure-http", false, "with -config: permit plain http:// URLs (local fakes and tests only)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: integration [-serve addr] | -config file [-serve addr | customer-id...]")
		fs.PrintDefaults()
	}
	ids, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if *configFile != "" {
		return runConfigured(ctx, *configFile, *serve, *insecure, ids, stdout)
	}
	if len(ids) > 0 {
		return fmt.Errorf("customer ids %s need -config (the demo picks its own)", strings.Join(ids, " "))
	}

	d, err := startDemo(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if *serve != "" {
		return serveHTTP(ctx, *serve, d.reg, d.sz, stdout)
	}
	return d.run(ctx, stdout)
}

// parseArgs parses flags wherever they are among the positional arguments
// ("C001 -serve :8080" is a flag, not two ids); after "--" everything is
// positional. An unknown flag is an error.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		i := 0
		for i < len(args) && (args[i] == "-" || !strings.HasPrefix(args[i], "-")) {
			i++
		}
		pos = append(pos, args[:i]...)
		args = args[i:]
		switch {
		case len(args) == 0:
			return pos, nil
		case args[0] == "--":
			return append(pos, args[1:]...), nil
		}
	}
}

// demoEnv is the embedded configuration running against the fakes, with
// one clock for tokenwire and the authorization server that the demo can
// move forward instead of waiting.
type demoEnv struct {
	clk   *clock
	fakes *fakes
	reg   *backends.Registry
	sz    *Summarizer
}

func startDemo(ctx context.Context) (*demoEnv, error) {
	d := &demoEnv{clk: &clock{}}
	fakes, err := startFakes(d.clk.Now)
	if err != nil {
		return nil, err
	}
	d.fakes = fakes
	cfg, err := backends.Parse(defaultConfig, backends.WithLookupEnv(d.fakes.env),
		rest.AllowInsecureHTTP(), // the fakes speak plain HTTP
		rest.WithClock(d.clk.Now))
	if err == nil {
		d.reg, err = backends.Open(ctx, cfg)
	}
	if err == nil {
		d.sz, err = NewSummarizer(d.reg)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *demoEnv) Close() {
	if d.reg != nil {
		_ = d.reg.Close()
	}
	d.fakes.Close()
}

// runConfigured uses real backends from a configuration file.
func runConfigured(ctx context.Context, file, addr string, insecure bool, ids []string, stdout io.Writer) error {
	opts := []rest.Option{backends.WithStoreSection[redis.Config]("redis")} // a file may name a Redis store
	if insecure {
		opts = append(opts, rest.AllowInsecureHTTP())
	}
	cfg, err := backends.Load(file, opts...)
	if err != nil {
		return err
	}
	reg, err := backends.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer reg.Close()
	sz, err := NewSummarizer(reg)
	if err != nil {
		return err
	}
	if addr != "" {
		return serveHTTP(ctx, addr, reg, sz, stdout)
	}
	if len(ids) == 0 {
		return errors.New("name the customer ids to summarize, or -serve ADDR")
	}
	sums, err := sz.Batch(ctx, ids)
	for _, s := range sums {
		if s != nil {
			fmt.Fprintln(stdout, s)
		}
	}
	return err
}

// run plays the three acts of the token story against the fakes.
func (d *demoEnv) run(ctx context.Context, w io.Writer) error {
	sz, f, clk := d.sz, d.fakes, d.clk
	fmt.Fprintln(w, "tokenwire integration example: in-process fakes of a CRM (OAuth), billing (API key)")
	fmt.Fprintln(w, "and an EHR (FHIR R4, SMART Backend Services), each with its authorization server")

	fmt.Fprintf(w, "\n1. %d customer summaries, concurrently\n", len(demoIDs))
	sums, err := sz.Batch(ctx, demoIDs)
	if err != nil {
		return err
	}
	for _, s := range sums {
		printSummary(w, s)
	}
	fmt.Fprintf(w, "   backend calls: CRM and billing %d, EHR %d (+%d SMART discovery)\n",
		f.calls.Load(), f.ehr.calls(), f.ehr.discoveries())
	fmt.Fprintf(w, "   %s\n", f.tokenRequests())

	clk.Advance(tokenLifetime + time.Second)
	fmt.Fprintf(w, "\n2. the tokens' lifetime (%s) passes\n", tokenLifetime)
	if err := summarize(ctx, w, sz, "C002"); err != nil {
		return err
	}
	fmt.Fprintf(w, "   %s (each renewed once)\n", f.tokenRequests())

	f.auth.RevokeAll()
	fmt.Fprintln(w, "\n3. the CRM's authorization server revokes its token; the CRM rejects it")
	if err := summarize(ctx, w, sz, "C003"); err != nil {
		return err
	}
	fmt.Fprintf(w, "   CRM 401 responses: %d; %s (a fresh CRM token, each rejected request resent once)\n",
		f.crmResponses(401), f.tokenRequests())
	return nil
}

func summarize(ctx context.Context, w io.Writer, sz *Summarizer, id string) error {
	s, err := sz.Summary(ctx, id)
	if err != nil {
		return err
	}
	printSummary(w, s)
	return nil
}

func printSummary(w io.Writer, s *Summary) {
	fmt.Fprintln(w, "  ", strings.ReplaceAll(s.String(), "\n", "\n   "))
}

// clock is the demo's time: the real time plus an offset that the demo
// moves forward instead of waiting.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
