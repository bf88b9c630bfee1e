package backends

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenwire/tokenwire/rest"
)

// sizedConfig is a file of n REST connections, each with its own basic
// definition and a header.
func sizedConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("security:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d: {type: basic, username: u%d, password: p%d}\n", i, i, i)
	}
	b.WriteString("rest:\n")
	for i := range n {
		fmt.Fprintf(&b, "  c%d: {base_url: 'https://c%d.example.com/api', security: s%d, headers: {X-Tenant: t%d}}\n", i, i, i, i)
	}
	return []byte(b.String())
}

// wideConfig is one connection with n headers: one mapping of n keys.
func wideConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("rest:\n  crm:\n    base_url: https://crm.example.com\n    headers:\n")
	for i := range n {
		fmt.Fprintf(&b, "      X-H%d: v\n", i)
	}
	return []byte(b.String())
}

// Parsing and opening are linear in the size of the file: the time per
// entry stays flat from 1k to 100k entries (it grew with their number
// when yaml compared every key of a mapping with every other, and when
// each connection put in the registry copied the map of all the others).
func BenchmarkLoadAndOpen(b *testing.B) {
	shared := http.DefaultTransport // one transport: what is measured is the assembly's work
	for _, n := range []int{1000, 10000, 100000} {
		sized, wide := sizedConfig(n), wideConfig(n)
		b.Run(fmt.Sprintf("parse-keys/entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(wide); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
		})
		b.Run(fmt.Sprintf("parse/entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(sized); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
		})
		cfg, err := Parse(sized, rest.WithTransport(shared))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("open/entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				reg, err := Open(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				_ = reg.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
		})
	}
}

// A GET through a connection looked up in the registry at each call, as
// a service does: the lookup is one atomic load beside the call.
func BenchmarkGet(b *testing.B) {
	handler := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"id":"42","name":"Ada"}`)) }
	_, reg := oauthSetup(b, handler)
	ctx := context.Background()
	call := func() error {
		c, err := reg.REST("crm")
		if err != nil {
			return err
		}
		return drainBody(c.Get(ctx, "customers/42"))
	}
	b.Run("serial/registry-conn-oauth", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel/registry-conn-oauth", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := call(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
