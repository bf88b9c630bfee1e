package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// handler serves the composite call, and what operators need:
//
//	GET /customers/{id}/summary  → Summary as JSON
//	GET /healthz                 → 200 while the process runs (liveness)
//	GET /readyz                  → 200 or 503: every token and backend checked (readiness)
//	    /debug/tokenwire/        → the status page (?format=json), with "renew now"
//
// The status page shows no secret, but it names the backends: a real
// service serves it on an address only operators reach.
func handler(reg *backends.Registry, sz *Summarizer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", backends.HealthHandler(reg, backends.CheckTimeout(5*time.Second)))
	mux.Handle("/debug/tokenwire/", http.StripPrefix("/debug/tokenwire", backends.StatusHandler(reg, backends.AllowRenew())))
	mux.Handle("GET /debug/tokenwire", http.RedirectHandler("/debug/tokenwire/", http.StatusMovedPermanently))
	mux.HandleFunc("GET /customers/{id}/summary", func(w http.ResponseWriter, r *http.Request) {
		s, err := sz.Summary(r.Context(), r.PathValue("id"))
		if err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, rest.ErrNotFound) {
				status = http.StatusNotFound
			}
			slog.WarnContext(r.Context(), "summary failed", "err", err)
			http.Error(w, http.StatusText(status), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

// serveHTTP runs the service on addr until ctx ends.
func serveHTTP(ctx context.Context, addr string, reg *backends.Registry, sz *Summarizer, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler(reg, sz), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "serving http://%s/customers/{id}/summary, /readyz and the status page /debug/tokenwire/ (Ctrl-C to stop)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
