// Command bulk runs a FHIR Bulk Data export end to end: an in-process FHIR
// server behind SMART Backend Services (its own authorization server,
// which knows the client's public key), a system-level $export, the polls
// while the server works, and the download of every file as a stream.
//
//	go run ./examples/bulk
//
// tokenwire finds the token endpoint in the server's
// .well-known/smart-configuration, signs the client assertion, fetches one
// token and attaches it to the kick-off, every poll and every download
// (the manifest says requiresAccessToken); nothing leaves 127.0.0.1.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bulk:", err)
		os.Exit(1)
	}
}

// The client's identity at the EHR's authorization server.
const (
	clientID = "bulk-export-example"
	keyID    = "bulk-2026"
)

// config names the EHR once; ${...} are filled in with the fakes' URLs and
// the client's key. In production private_key is file:/run/secrets/….
const config = `
security:
  ehr-smart:                  # SMART Backend Services: no token_url, it is discovered
    type: oauth2
    client_id: ` + clientID + `
    private_key: ${EHR_PRIVATE_KEY}
    key_id: ` + keyID + `
    signing_alg: ES384
    scopes: [system/Patient.rs, system/Observation.rs]
fhir:
  ehr:
    base_url: ${EHR_URL}
    security: ehr-smart
    smart: true
    timeout: 30s
store:
  memory: {size: 16}
`

// How much the fake EHR holds.
const (
	patientCount    = 8
	vitalsPerPerson = 3
)

// run is the whole program; the test calls it with an option that skips
// the waits between polls.
func run(ctx context.Context, w io.Writer, opts ...fhir.ExportOption) error {
	ehr, err := startEHR()
	if err != nil {
		return err
	}
	defer ehr.Close()
	cfg, err := backends.Parse([]byte(config), backends.WithLookupEnv(ehr.env),
		rest.AllowInsecureHTTP()) // the fake speaks plain HTTP on 127.0.0.1
	if err != nil {
		return err
	}
	reg, err := backends.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer reg.Close()
	conn, err := reg.FHIR("ehr")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tokenwire bulk export example: %s behind SMART Backend Services\n", conn.BaseURL())
	fmt.Fprintf(w, "seeded %d Patients and %d Observations\n", patientCount, patientCount*vitalsPerPerson)
	if err := export(ctx, w, conn, opts); err != nil {
		return err
	}
	fmt.Fprintf(w, "token requests: %d (one token for the kick-off, the polls and the downloads)\n", ehr.auth.Requests(clientID))
	return nil
}

// export runs a system-level export and counts what each file holds.
func export(ctx context.Context, w io.Writer, conn *fhir.Conn, opts []fhir.ExportOption) error {
	progress := fhir.ExportProgress(func(s fhir.ExportStatus) {
		if s.Manifest == nil {
			fmt.Fprintf(w, "  polling: %d %s, next poll in %s\n", s.StatusCode, s.Progress, s.Wait)
		}
	})
	x, err := conn.Export(ctx, slices.Concat(opts, []fhir.ExportOption{progress})...)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "kick-off accepted, status URL", x.StatusURL())
	m, err := x.Wait(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "complete: %d files, requiresAccessToken %v\n", len(m.Output), m.RequiresAccessToken)
	total := 0
	for i, f := range m.Output {
		fmt.Fprintf(w, "  downloading %s (file %d of %d)…\n", f.Type, i+1, len(m.Output))
		n, bad, err := count(ctx, conn, m, f, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s: %d resources (manifest: %d), %d bad lines\n", f.Type, n, f.Count, bad)
		total += n
	}
	fmt.Fprintf(w, "total: %d resources\n", total)
	return nil
}

// count streams one file, counting its resources and its bad lines. A
// bad line goes to ExportBadLine and the file goes on; an error in the
// loop is the failure of the download, never "one line fewer".
func count(ctx context.Context, conn *fhir.Conn, m *fhir.Manifest, f fhir.OutputFile, opts []fhir.ExportOption) (n, bad int, err error) {
	skip := fhir.ExportBadLine(func(*fhir.ExportLineError) { bad++ })
	for _, err := range conn.ExportResources(ctx, m, f, slices.Concat(opts, []fhir.ExportOption{skip})...) {
		if err != nil {
			return n, bad, err
		}
		n++
	}
	return n, bad, nil
}

// ehrFake is a FHIR server protected by its own authorization server,
// which it names in .well-known/smart-configuration.
type ehrFake struct {
	auth   *oauthtest.Server
	fhir   *fhirtest.Server
	keyPEM string // the client's private key, for ${EHR_PRIVATE_KEY}
}

func startEHR() (*ehrFake, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader) // ES384
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	e := &ehrFake{keyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
	e.auth = oauthtest.NewServer()
	e.auth.AddClient(oauthtest.Client{ID: clientID, Key: key.Public(), KeyID: keyID, Scopes: []string{"system/Patient.rs", "system/Observation.rs"}})
	e.fhir = fhirtest.NewServer(fhirtest.WithTokenCheck(e.auth.Valid), fhirtest.WithExportPolls(2),
		fhirtest.WithSmartConfiguration(&fhirtest.SmartConfiguration{
			TokenEndpoint:                     e.auth.TokenURL(),
			TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
			TokenEndpointAuthSigningAlgs:      []string{"ES384"},
			GrantTypesSupported:               []string{"client_credentials"},
		}))
	if _, err := e.fhir.Seed(records()...); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *ehrFake) Close() {
	e.fhir.Close()
	e.auth.Close()
}

func (e *ehrFake) env(name string) (string, bool) {
	v, ok := map[string]string{"EHR_URL": e.fhir.URL, "EHR_PRIVATE_KEY": e.keyPEM}[name]
	return v, ok
}

// records are the Patients and their vital signs, as FHIR JSON.
func records() []any {
	var out []any
	for i := range patientCount {
		id := fmt.Sprintf("p-%d", 1001+i)
		out = append(out, map[string]any{"resourceType": "Patient", "id": id,
			"name": []any{map[string]any{"family": fmt.Sprintf("Family%d", i), "given": []string{"Demo"}}}})
		for j := range vitalsPerPerson {
			out = append(out, map[string]any{"resourceType": "Observation", "id": fmt.Sprintf("%s-o%d", id, j+1),
				"status": "final", "code": map[string]any{"text": "heart rate"},
				"subject":       map[string]any{"reference": "Patient/" + id},
				"valueQuantity": map[string]any{"value": 60 + 3*i + j, "unit": "/min"}})
		}
	}
	return out
}
