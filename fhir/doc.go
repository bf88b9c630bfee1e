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
// [Discovery] reads and caches a server's SMART configuration
// (.well-known/smart-configuration) for SMART Backend Services.
//
// Package fhir/fhirtest is an in-memory FHIR server for tests.
package fhir
