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
// $validate (POST [type]/$validate, and [type]/[id]/$validate for the
// modes update and delete) checks a resource against a small rule set —
// the required elements of Observation, Encounter, Condition,
// MedicationRequest, DiagnosticReport, Procedure, AllergyIntolerance and
// Immunization, the codes of Patient.gender and of a few statuses — and
// against the profiles it knows, of which it checks the required
// elements: US Core Patient
// (http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient:
// identifier, name, gender) and the base vital signs profile
// (http://hl7.org/fhir/StructureDefinition/vitalsigns: category,
// subject, effective[x]); another profile is an error issue. Mode create
// refuses an id, update an id other than the URL's, and delete a
// resource that another refers to. The OperationOutcome is answered with
// 200, valid or not, each issue with its expression and location.
//
// Every write — create, update, patch, conditional ones and the entries of
// a batch or transaction — is held to the same rule set (without a
// profile), as a real server validates before it writes: a resource that
// breaks it is answered 400 with those issues, and nothing is written.
// [Server.Seed] stores resources as they are, unchecked.
//
// The terminology operations — ValueSet/$expand (filter, count, offset),
// CodeSystem/$lookup, ValueSet/$validate-code, CodeSystem/$validate-code
// and ConceptMap/$translate, by GET or POST — work on the CodeSystem,
// ValueSet (compose of whole systems or listed codes) and ConceptMap
// resources stored in the server, found by url, and on a small built-in
// terminology: the code system http://example.org/fhir/CodeSystem/lab-tests
// (GLU, HBA1C, CHOL, K and the inactive GLU-OLD, with German
// designations and a units property), the value sets
// http://example.org/fhir/ValueSet/lab-tests (all of it) and
// http://example.org/fhir/ValueSet/diabetes-labs (GLU, HBA1C), and the
// concept map http://example.org/fhir/ConceptMap/lab-tests-to-loinc (to
// LOINC, and GLU to SNOMED CT).
//
// A search in a Patient or Encounter compartment (GET
// Patient/[id]/[type], or POST Patient/[id]/[type]/_search) finds the
// resources that refer to it through the same elements as $everything
// (Observation subject and performer, Condition subject and asserter…);
// another compartment is a 400. A request whose path and query are
// longer than 8 KiB is answered 414 URI Too Long in plain text, as a
// server or proxy in front would answer it; the paging links of a search
// sent by POST _search with a longer query name it by a _getpages key.
//
// $export at system, Patient and Group level answers asynchronously like a
// real Bulk Data server ([WithExportPolls]): 202 with X-Progress and
// Retry-After while it "works", then the manifest; its NDJSON files honour
// Range requests ([WithoutExportRanges] turns that off), and
// [Server.CutNextDownload] cuts one mid-body to exercise a client's resume.
//
// [WithTokenCheck] makes it a protected resource server; [Server.RejectToken]
// answers 401 to a token as if it were revoked, to exercise a client's
// renew-and-retry. [Server.FailNext] makes the next requests fail with a
// status of your choice (401, 403, 429, 500, 503…) and an
// OperationOutcome, to test how your service answers a backend that
// refuses (a search that fails must not look like one with no results).
// [Server.Requests] and [Server.Hits] count requests.
//
//	srv := fhirtest.NewServer()
//	defer srv.Close()
//	conn := srv.Conn("ehr") // a *fhir.Conn to srv.URL
//	res, err := fhir.Create(ctx, conn, &models.Patient{...})
package fhirtest
