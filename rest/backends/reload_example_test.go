package backends_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"syscall"

	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// A reload applies a new configuration to a running registry and says
// what changed; definitions and connections it did not change go on as
// they were (no token is fetched again).
func ExampleRegistry_Reload() {
	vars := map[string]string{"LEGACY_PASSWORD": "s3cret"}
	opts := []rest.Option{backends.WithLookupEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })}
	v1, err := backends.Parse([]byte(`
security:
  legacy-basic: {type: basic, username: svc, password: '${LEGACY_PASSWORD}'}
rest:
  crm: {base_url: 'https://crm.example.com/api', security: legacy-basic}
  erp: {base_url: 'https://erp.example.com'}
`), opts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := backends.Open(context.Background(), v1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()

	vars["LEGACY_PASSWORD"] = "rotated" // the same file, a new secret
	v2, err := backends.Parse([]byte(`
security:
  legacy-basic: {type: basic, username: svc, password: '${LEGACY_PASSWORD}'}
rest:
  crm: {base_url: 'https://crm.example.com/api', security: legacy-basic}
  billing: {base_url: 'https://billing.example.com/v1'}
`), opts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	report, err := reg.Reload(context.Background(), v2)
	if err != nil {
		fmt.Println(err) // every problem; the running configuration is kept
		return
	}
	fmt.Printf("security changed %q; connections added %q, changed %q, removed %q\n",
		report.Security.Changed, report.Connections.Added, report.Connections.Changed, report.Connections.Removed)
	fmt.Println(reg.Names())

	// A configuration that does not check changes nothing.
	_, err = reg.Reload(context.Background(), &backends.Config{REST: map[string]backends.ConnConfig{"crm": {ConnConfig: rest.ConnConfig{BaseURL: "ftp://crm"}}}})
	fmt.Println(err)
	fmt.Println(reg.Names())
	// Output:
	// security changed ["legacy-basic"]; connections added ["billing"], changed ["crm"], removed ["erp"]
	// [billing crm]
	// backends: reload refused, the running configuration is kept: config: rest "crm": base_url: must be an absolute http(s) URL
	// [billing crm]
}

// A service watches its configuration file, and reloads on SIGHUP too,
// until it stops.
func ExampleRegistry_Watch() {
	ctx := context.Background()
	cfg, err := backends.Load("/etc/integration/tokenwire.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := backends.Open(ctx, cfg, rest.WithLogger(slog.Default())) // logs each "config reload"
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	w, err := reg.Watch(ctx, "/etc/integration/tokenwire.yaml", backends.ReloadOnSignal(syscall.SIGHUP),
		backends.OnReload(func(r backends.ReloadReport, err error) {
			if err != nil {
				fmt.Fprintln(os.Stderr, err) // kept running as it was
			}
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	// ... serve, calling reg.REST("crm") per call ...
}
