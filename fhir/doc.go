// Package fhir is a client for HL7 FHIR R4 servers, typed with the models of
// github.com/samply/golang-fhir-models (imported here as models).
//
// A [Conn] is a named connection to one server's base URL. It sends
// requests through a [Doer] — the *rest.Conn of a configuration file's
// fhir section ([Lookup]), or any *http.Client (one from oauthclient
// attaches, and on 401 renews, the access token) — so the FHIR layer
// itself never sees a credential.
//
// The interactions of the RESTful API are generic functions over the model
// type, whose Go name is the resource type:
//
//	conn, _ := fhir.New("ehr", "https://ehr.example.com/fhir/R4", client)
//	p, err := fhir.Read[models.Patient](ctx, conn, "123")
//	res, err := fhir.Create(ctx, conn, &models.Patient{...})          // res.ID, res.VersionID
//	_, err = fhir.Update(ctx, conn, p)                                // If-Match: W/"<meta.versionId>"
//	for p, err := range fhir.Search[models.Patient](ctx, conn, fhir.Params().Exact("family", "Chalmers")) {
//		…                                                         // streams page by page
//	}
//
// Failures are *[Error] values carrying the status and the server's
// OperationOutcome issues. Each wraps the connection's *rest.Error, so the
// one taxonomy of HTTP outcomes applies to FHIR calls as to REST ones:
// errors.Is matches rest.ErrNotFound, rest.ErrGone, rest.ErrConflict,
// rest.ErrPreconditionFailed, rest.ErrServerError, rest.ErrTransport (no
// response at all) and the other rest sentinels. A resource that does not
// fit its model gives a *[DecodeError] naming the resource type and the
// JSON path. Resources of unknown type (Bundle entries, operation results)
// are decoded by [DecodeResource]. No error holds a search value or the
// credential the request carried.
//
// # Connections from the configuration file
//
// The fhir section of a rest configuration file declares FHIR connections
// with the same settings as REST ones, in the same rest.Registry: one load,
// one open, one lookup. [Lookup] speaks FHIR over the registry's
// connection, so FHIR calls get the same TLS, pool, timeout, retries and
// tokens (cached, renewed, 401 → renew → resend once) as REST calls.
//
//	cfg, err := rest.LoadConfig("tokenwire.yaml")
//	reg, err := rest.Open(ctx, cfg)
//	defer reg.Close()
//	ehr, err := fhir.Lookup(reg, "ehr") // unknown name: errors.Is rest.ErrUnknownConnection
//
// # SMART Backend Services
//
// A connection with smart: true whose oauth2 definition has no token_url
// is SMART Backend Services: client credentials with a private_key_jwt
// assertion (RS384 or ES384, kid required), the token endpoint read from
// the server's .well-known/smart-configuration when the first token is
// needed, and kept for an hour (oauthclient.SMARTBackendServices, which
// also completes a definition built in code):
//
//	security:
//	  ehr-smart:
//	    type: oauth2                    # no token_url: discovered
//	    client_id: my-service
//	    private_key: file:/run/secrets/ehr-key.pem   # RSA or EC P-384
//	    key_id: key-2026
//	    scopes: [system/Patient.rs, system/Observation.rs]
//	fhir:
//	  ehr:
//	    base_url: https://ehr.example.org/fhir/r4
//	    security: ehr-smart
//	    smart: true
//
// Such a definition serves only smart FHIR connections to one base URL;
// the configuration loader refuses it for anything else.
//
// Package fhir/fhirtest is an in-memory FHIR server for tests.
package fhir
