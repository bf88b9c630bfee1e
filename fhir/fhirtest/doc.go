// Package fhirtest is an in-memory FHIR R4 server for tests, on
// net/http/httptest and 127.0.0.1.
//
// It stores resources of any type as JSON and implements what a client
// test needs: create (also If-None-Exist), read, vread, update with
// versioning (meta.versionId, meta.lastUpdated, ETag W/"n") and If-Match
// (412 on a mismatch), conditional read (If-None-Match, If-Modified-Since:
// 304 with no body), If-Match on DELETE and PATCH, conditional update,
// delete and patch (404 on no match, 412 on several), JSON Patch (400 when
// it cannot be applied), delete (200 with an OperationOutcome; then read
// answers 410), instance/type/system history (_since, _at), search on _id
// and a few common parameters (Patient family, given, name, birthdate,
// identifier, gender; Observation subject/patient, code, date with
// prefixes; _count, _offset, _sort, _include and _revinclude on reference
// parameters) with paged searchset Bundles and "next" links, batch and
// transaction Bundles, operations registered with [WithOperation], and a
// CapabilityStatement at metadata. Errors are OperationOutcome resources;
// a request whose line and headers pass 16 KiB is answered 431, as a
// server on Node.js answers. The fhir package's tests run against fhirtest
// and a real FHIR server alike, so that where they meet fhirtest answers
// as the real one does.
//
// A transaction is all or nothing, run in FHIR's order (DELETE, POST,
// PUT/PATCH, GET): each urn:uuid: full URL of a create or a conditional
// update (and references to it) becomes the new or matched "Type/id",
// ifNoneExist finds an existing resource instead of creating one, and a
// conditional reference ("Patient?identifier=…") becomes its one match —
// none or several fail the transaction (412), as does a urn:uuid:
// reference to no entry (400).
//
// Patient and Encounter $everything (GET [type]/[id]/$everything, or
// every patient's with no id) answer the resource, the resources of its
// compartment (after FHIR R4's CompartmentDefinitions: subject, patient,
// performer… for a Patient; encounter for an Encounter) and the
// resources those refer to, with _type, _since and paging; an operation
// registered as "everything" replaces it.
//
// $export at system, Patient and Group level answers asynchronously like a
// real Bulk Data server ([WithExportPolls]): 202 with X-Progress and
// Retry-After while it "works", then the manifest; its NDJSON files honour
// Range requests ([WithoutExportRanges] turns that off), and
// [Server.CutNextDownload] cuts one mid-body to exercise a client's resume.
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
