// Package fhirtest is an in-memory FHIR R4 server for tests, on
// net/http/httptest and 127.0.0.1.
//
// It stores resources of any type as JSON and implements what a client
// test needs: create (also If-None-Exist), read, vread, update with
// versioning (meta.versionId, meta.lastUpdated, ETag W/"n") and If-Match
// (412 on a mismatch), conditional update and delete, JSON Patch, delete
// (then read answers 410), instance/type/system history, search on _id and
// a few common parameters (Patient family, given, name, birthdate,
// identifier, gender; Observation subject/patient, code, date with
// prefixes; _count, _offset, _sort) with paged searchset Bundles and "next"
// links, batch and transaction Bundles, operations registered with
// [WithOperation], and a CapabilityStatement at metadata. Errors are
// OperationOutcome resources.
//
// [WithTokenCheck] makes it a protected resource server; [Server.RejectTokens]
// and [Server.RejectToken] answer 401 to exercise a client's renew-and-retry.
// [Server.Requests] and [Server.Hits] count requests.
//
//	srv := fhirtest.NewServer()
//	defer srv.Close()
//	conn := srv.Conn("ehr") // a *fhir.Conn to srv.URL()
//	res, err := fhir.Create(ctx, conn, &models.Patient{...})
package fhirtest
