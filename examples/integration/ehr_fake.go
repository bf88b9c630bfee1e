package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// The EHR client: it proves who it is with a key pair, not a secret. The
// EHR's authorization server knows only the public key.
const (
	ehrClientID = "integration-service-ehr"
	ehrKeyID    = "integration-2026" // key_id in config.yaml
)

// crmSystem is the identifier system by which the EHR links its patients
// to CRM customers.
const crmSystem = "urn:example:crm:customer"

// fakeEHR is a FHIR R4 server protected by its own authorization server,
// which it names in .well-known/smart-configuration (SMART Backend
// Services).
type fakeEHR struct {
	auth   *oauthtest.Server
	fhir   *fhirtest.Server
	keyPEM string // the client's private key, handed to the config as ${EHR_PRIVATE_KEY}
}

func startEHR(now func() time.Time) (*fakeEHR, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader) // ES384
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	e := &fakeEHR{keyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
	e.auth = oauthtest.NewServer(oauthtest.WithClock(now), oauthtest.WithTokenLifetime(tokenLifetime))
	e.auth.AddClient(oauthtest.Client{ID: ehrClientID, Key: key.Public(), KeyID: ehrKeyID, Scopes: []string{"system/Patient.rs", "system/Observation.rs"}})
	e.fhir = fhirtest.NewServer(fhirtest.WithTokenCheck(e.auth.Valid), fhirtest.WithSmartConfiguration(&fhirtest.SmartConfiguration{
		TokenEndpoint:                     e.auth.TokenURL(),
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
		TokenEndpointAuthSigningAlgs:      []string{"RS384", "ES384"},
		GrantTypesSupported:               []string{"client_credentials"},
	}))
	if _, err := e.fhir.Seed(ehrRecords()...); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *fakeEHR) Close() {
	e.fhir.Close()
	e.auth.Close()
}

func (e *fakeEHR) tokenRequests() int { return e.auth.Requests(ehrClientID) }

// calls counts FHIR requests, apart from SMART discovery.
func (e *fakeEHR) calls() int { return e.fhir.Requests() - e.discoveries() }

func (e *fakeEHR) discoveries() int { return e.fhir.Hits("GET", ".well-known/smart-configuration") }

// The EHR's view of the CRM's customers: its own patient ids, linked by an
// identifier. Ken Thompson (C008) has no record there.
var patients = []struct{ customer, id, family, given, birthDate string }{
	{"C001", "p-1001", "Lovelace", "Ada", "1815-12-10"},
	{"C002", "p-1002", "Turing", "Alan", "1912-06-23"},
	{"C003", "p-1003", "Hopper", "Grace", "1906-12-09"},
	{"C004", "p-1004", "Dijkstra", "Edsger", "1930-05-11"},
	{"C005", "p-1005", "Liskov", "Barbara", "1939-11-07"},
	{"C006", "p-1006", "Knuth", "Donald", "1938-01-10"},
	{"C007", "p-1007", "Hamilton", "Margaret", "1936-08-17"},
}

// vitals are the Observations recorded for each patient (LOINC codes).
var vitals = []struct {
	code, text, unit string
	base             int
	date             string // day of month is the patient's number
}{
	{"29463-7", "body weight", "kg", 58, "2026-01-%02d"},
	{"8867-4", "heart rate", "/min", 62, "2026-02-%02d"},
	{"8480-6", "systolic BP", "mm[Hg]", 115, "2026-03-%02d"},
}

// ehrRecords returns the Patients and their Observations, as FHIR JSON.
func ehrRecords() []any {
	var out []any
	for i, p := range patients {
		out = append(out, map[string]any{
			"resourceType": "Patient", "id": p.id,
			"identifier": []any{map[string]any{"system": crmSystem, "value": p.customer}},
			"name":       []any{map[string]any{"family": p.family, "given": []string{p.given}}},
			"birthDate":  p.birthDate,
		})
		for j, v := range vitals {
			out = append(out, map[string]any{
				"resourceType": "Observation", "id": fmt.Sprintf("%s-o%d", p.id, j+1), "status": "final",
				"code": map[string]any{"text": v.text,
					"coding": []any{map[string]any{"system": "http://loinc.org", "code": v.code}}},
				"subject":           map[string]any{"reference": "Patient/" + p.id},
				"effectiveDateTime": fmt.Sprintf(v.date, i+1),
				"valueQuantity":     map[string]any{"value": v.base + (i*7)%13, "unit": v.unit},
			})
		}
	}
	return out
}
