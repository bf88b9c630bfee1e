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
)

// handler serves the composite call:
//
//	GET /customers/{id}/summary  → Summary as JSON
//	GET /healthz                 → 200
func handler(sz *Summarizer) http.Handler {
	mux := http.NewServeMux()
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
func serveHTTP(ctx context.Context, addr string, sz *Summarizer, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler(sz), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "serving http://%s/customers/{id}/summary (Ctrl-C to stop)\n", ln.Addr())
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
