// Package fhir is a client for HL7 FHIR R4 servers, typed with the models of
// github.com/samply/golang-fhir-models (imported here as models).
//
// A [Conn] is a named connection to one server's base URL. It sends
// requests through a [Doer] — an *http.Client, typically one from
// oauthclient that attaches (and on 401 renews) the access token — so the
// connection itself never sees a credential.
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
// OperationOutcome issues; errors.Is matches [ErrNotFound], [ErrGone],
// [ErrConflict], [ErrPreconditionFailed] and the other status sentinels.
// A resource that does not fit its model gives a *[DecodeError] naming the
// resource type and the JSON path. Resources of unknown type (Bundle
// entries, operation results) are decoded by [DecodeResource].
//
// # Connections from the configuration file
//
// The fhir section of a rest configuration file declares FHIR connections
// with the same settings as REST ones. [NewRegistry] builds them: each
// sends its requests through a rest.Conn, so FHIR calls get the same TLS,
// pool, timeout, retries and tokens (cached, renewed, 401 → renew → resend
// once) as REST calls, from the security definitions of the rest.Registry.
//
//	cfg, err := rest.LoadConfig("tokenwire.yaml")
//	reg, err := rest.NewRegistry(ctx, cfg, rest.RegistryOptions{})
//	fhirReg, err := fhir.NewRegistry(ctx, cfg, reg)
//	ehr, err := fhirReg.Conn("ehr") // unknown name: errors.Is ErrUnknownConnection
//
// # SMART Backend Services
//
// A connection with smart: true whose oauth2 definition has no token_url is
// SMART Backend Services: client credentials with a private_key_jwt
// assertion (RS384 or ES384, kid required), the token endpoint discovered
// from the server's .well-known/smart-configuration when the first token
// is needed, and cached by a [Discovery] shared by the registry:
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
// the configuration loader refuses it for anything else. In code,
// [BackendServices] completes an oauthclient.Config the same way.
//
// Package fhir/fhirtest is an in-memory FHIR server for tests.
package fhir
