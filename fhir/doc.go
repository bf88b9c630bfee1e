// Package fhir is a client for HL7 FHIR R4 servers: typed reads, searches
// and writes, batches and operations, and Bulk Data export, over a
// connection that carries the credentials (SMART Backend Services or any
// OAuth 2.0 grant), typed with the models of
// github.com/samply/golang-fhir-models (imported here as models).
//
// A [Conn] is a named connection to one server's base URL. It sends
// requests through a [Doer] — the *rest.Conn of a configuration file's
// fhir section (package rest/backends builds the Conn: reg.FHIR(name)), or
// any *http.Client (one from oauthclient attaches, and on 401 renews, the
// access token) — so the FHIR layer itself never sees a credential, and
// FHIR calls get the same TLS, retries, default headers and token
// handling as REST calls.
//
// The interactions of the RESTful API are generic functions over the model
// type, whose Go name is the resource type:
//
//	ehr, err := reg.FHIR("ehr") // or fhir.New("ehr", "https://ehr.example.com/fhir/R4", client)
//	p, err := fhir.Read[models.Patient](ctx, ehr, "p-1001")
//	res, err := fhir.Create(ctx, ehr, &models.Patient{...}) // res.ID, res.VersionID
//	_, err = fhir.Update(ctx, ehr, p)                       // If-Match: W/"<meta.versionId>"
//	q := fhir.Params().Add("subject", "Patient/p-1001").Add("_sort", "-date").Count(50)
//	for obs, err := range fhir.Search[models.Observation](ctx, ehr, q) {
//		if err != nil {
//			return err // the search failed: never "continue" (see Searching)
//		}
//		fmt.Println(*obs.Id)
//	}
//
// JSON (application/fhir+json) is the only format spoken, so _format is
// never needed; Prefer: return=minimal | representation | OperationOutcome
// ([ReturnMinimal], [ReturnOutcome]) is there. An id or a resource type
// that is no FHIR id ("a?b", "1/../x") is refused before anything is sent
// with an error wrapping rest.ErrBadPath: a bad argument, never the
// server's doing. When the id came from your own caller, that is a 400;
// when it came from another backend (a patient id the CRM returned), it is
// that backend's bad data, which a service answers as any failure of a
// backend (502).
//
// If you know HAPI's generic client or fhirpy, this is the same
// vocabulary:
//
//   - read, vread: [Read], [VRead] (HAPI read().resource(…).withId(id)).
//   - read with its version, then again only if changed: [ReadMeta], then
//     [Refresh] (a 304 gives your copy back; HAPI ifVersionMatches).
//   - search, every page: [Search]; the total, the links and the _include
//     resources apart: [SearchPages]; in a compartment (HAPI
//     withIdAndCompartment): [Compartment]; by POST when the URL would be
//     too long (HAPI usingStyle): always, by itself (retried like a GET).
//   - create, conditional create: [Create] with [IfNoneExist].
//   - update with locking: [Update] (If-Match from meta.versionId),
//     [UpdateWhere].
//   - patch, conditional patch, delete: [Patch], [PatchWhere],
//     [Conn.Delete] with [IfMatch], [Conn.DeleteWhere].
//   - batch, transaction (built with [Tx], as fhirpy's and Firely's
//     transaction builders; HAPI transaction().withResources(…)):
//     [Conn.Batch], [Conn.Transaction]; $operation: [Conn.Operation].
//   - history at the three levels, $everything, reading references
//     (HAPI history(), fetchResourceFromUrl; fhirpy reference.to_resource()):
//     [Conn.History], [Conn.Everything], [Conn.Resolve].
//   - $validate (HAPI validate()): [Validate], issues and not errors.
//   - terminology: [Conn.Expand], [Conn.Lookup], [Conn.ValidateCode],
//     [Conn.Translate].
//   - capabilities: [Conn.Supports], [Conn.Capabilities], [Conn.Ping].
//   - bulk export (fhirpy has none): [Conn.Export], [Export.Wait],
//     [ExportFile], [Conn.ExportResources].
//
// # Versions and conditional requests
//
// [ReadMeta] returns the resource with its version id, the ETag as sent
// (W/"3" or "3") and Last-Modified; [Refresh] re-reads it conditionally
// (If-None-Match, If-Modified-Since), and a 304 Not Modified gives the
// caller's own copy back, marked NotModified — never an error. Writes lock
// with [IfMatch] on [Update], [Patch], [PatchWhere] (a conditional PATCH
// [type]?search) and [Conn.Delete]; a concurrent change matches
// rest.ErrPreconditionFailed.
//
// # Capabilities
//
// Each connection reads the server's CapabilityStatement (GET metadata)
// once, shared by concurrent callers; a failed read is tried again on the
// next call. [Conn.Capabilities], [Conn.Supports] (an operation as
// "$everything" or "$validate") and [Conn.FHIRVersion] (read even from a
// statement the models refuse) answer from it; [Conn.Ping] (the
// readiness check of a FHIR connection) always asks metadata afresh and
// keeps what it read, so a periodic check keeps that view current.
//
// # Searching
//
// [Search] yields the matches of type T across every page; [SearchPages]
// yields each page with Bundle.total, its links, the matches, the
// resources _include and _revinclude brought (search mode "include") and
// the server's outcome apart, and [Conn.Resolve] with the page finds a
// reference among the page's resources first and reads it from the server
// second — only on the connection's base URL. [Conn.Pages] yields the raw
// Bundles.
//
// An error yielded by an iteration is always the end of it: the search
// failed (a 401 after the token was renewed and the request sent again, a
// 5xx, a cancelled context, a server breaking the paging rules), and
// nothing follows. Return it: a "log and continue" would answer a
// rejected search with an empty result. A resource that does not decode is
// not such an error where the page can go on without it: [SearchPages]
// lists it in the page's Errors (a *[DecodeError] naming the page and the
// entry) beside the entries that decoded, so no loop can mistake one kind
// for the other; [Search], which has no page to put it in, ends with it.
// The example of [SearchPages] shows the loop.
//
// A page is bounded before memory is taken for it (16 MiB, 10,000 entries
// and links, [WithMaxBody], [WithMaxEntries]: a 16 MiB page of empty
// entries used to take 1.9 GB), and so are next links (32 KiB, on the base
// URL's origin) and the pages followed (1,000, [MaxPages],
// [ErrPagingNeverEnds]); only hashes of the links followed are kept to
// detect a loop (also [ErrPagingNeverEnds]).
//
// A search is sent as GET [type]?[q] while its URL is at most 8 KiB, the
// request line that servers and proxies commonly accept (Apache, nginx,
// Tomcat), and as POST [type]/_search with the parameters in a form body
// beyond, so a search by a thousand ids just works; a GET that a server
// or a proxy with a lower limit refuses with 414 URI Too Long is sent
// again as the POST. Either is retried like a read. [UsePost] sends every
// search as the POST, to keep search values (identifiers, names, birth
// dates) out of URLs and so out of access logs. Next pages follow the
// server's links. [Compartment] searches within a compartment: GET
// Patient/123/Observation?… returns what the server's compartment
// definition links to the patient (subject, performer…), which no single
// search parameter may cover.
//
// # Validation and terminology
//
// [Validate] runs $validate on a resource, against a profile when one is
// given, as a general check, a create, or (instance level) an update or
// a delete. The server's OperationOutcome comes back as []Issue — each
// with severity, code, diagnostics, the FHIRPath expression and the
// location — with valid true when none is an error; an invalid resource
// is a result, never an error (also from servers that answer it 400, 412
// or 422), and err is only the failure of the call:
//
//	valid, issues, err := fhir.Validate(ctx, ehr, p, "", "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient")
//	if err != nil {
//		return err // the call failed
//	}
//	for _, is := range issues {
//		log.Println(is.Severity, is.Code, is.Expression, is.Diagnostics)
//	}
//
// The terminology operations take and return the models: [Conn.Expand] a
// value set's canonical URL (filter, count, offset… in a url.Values) and
// a *models.ValueSet with its expansion; [Conn.Lookup] a models.Coding and
// the concept (*models.CodeSystemConcept: display, designations,
// properties); [Conn.ValidateCode] a value set (or "" for the coding's
// own code system) and a coding, and the server's result and message;
// [Conn.Translate] a concept map, a coding and a target system, and the
// matches as []models.ConceptMapGroup, one per target system, each with
// its equivalence ("unmatched" and "disjoint" are not matches). They are
// sent by GET with the values as they are (no search escaping), and, as
// search values, the values never reach an error.
//
//	vs, err := ehr.Expand(ctx, "http://hl7.org/fhir/ValueSet/administrative-gender", url.Values{"filter": {"fem"}})
//	ok, msg, err := ehr.ValidateCode(ctx, vsURL, models.Coding{System: &loinc, Code: &code})
//
// # Decoding
//
// Resources decode into the models about four times faster than
// encoding/json does, with about a third of its allocations
// (BenchmarkDecodeSearchset), and faster than github.com/goccy/go-json
// into the same models with a third of its allocations on mixed
// searchsets (BenchmarkDecodeMixed: ten resource types, narratives,
// extensions, primitive extensions, decimals as servers write them),
// and with exactly encoding/json's results: a differential test over
// fixtures, mixed searchsets, generated documents for 16 resource types
// and a fuzz target compare the two, the models' own UnmarshalJSON for
// codes included. Strict by default, as the models are: a code outside
// its value set fails that resource with a *[DecodeError] naming the path.
// Servers that do not check bindings send such codes; with [Lenient] a
// connection keeps those resources (an optional code left nil, a required
// one -1, whose Code() is "<unknown>", so a resource read leniently is
// never written back with a wrong code) and reports each code.
//
// # Transactions, history, $everything and references
//
// A [Tx] builds a transaction (or a batch) of creates, updates, deletes
// and reads. [Tx.Create] returns the urn:uuid: full URL of the resource
// it adds: put it in a Reference of another resource of the same
// transaction, and the server replaces it by the new "Type/id". A
// reference may also be conditional, "Patient?identifier=sys|123": the
// server replaces it by the one match, and fails the transaction when
// none or several match. [IfNoneExist] makes a create conditional (a
// match is used, not duplicated: references to its key point to it).
// [Conn.Transaction] sends it in one request and returns each entry's
// [Entry] — the id and version the server gave, Status, Location, the
// resource — by the key [Tx.Create] or [Tx.Add] returned:
//
//	var tx fhir.Tx
//	pat := tx.Create(patient, fhir.IfNoneExist(fhir.Params().Token("identifier", mrnSystem, mrn)))
//	obs := tx.Create(&models.Observation{Subject: &models.Reference{Reference: &pat}, …})
//	res, err := ehr.Transaction(ctx, &tx)
//	fmt.Println(res[pat].ID, res[obs].ID, res[obs].VersionID)
//
// [Conn.History] (a resource's, a type's or the server's, with _since and
// _at) and [Conn.Everything] (a Patient's or an Encounter's record) yield
// [Entry] values page by page, resources of any type decoded by
// [DecodeResource]. As with [Search], an error yielded by the iteration
// ends it; a resource that does not decode does not: its Entry carries
// the *[DecodeError] in Err and the next entry follows.
//
// [Conn.Resolve] reads what references point to — relative, absolute on
// the base URL, versioned, "#id" in a resource's contained (given as
// JSON), a Bundle's urn:uuid: or a page's _include — reading each target
// once per call, up to four at a time, never from another server.
//
// # Bulk Data export
//
// The client side of the HL7 FHIR Bulk Data Access IG v2.0.0, the main use
// of SMART Backend Services. [Conn.Export], [Conn.ExportGroup] and
// [Conn.ExportPatients] start a system, Group or Patient level $export
// with Prefer: respond-async. Their options are [ExportOption] functions,
// the style of the connection, search and write options, each documented
// with its default; every step takes the same ones, so one slice of them
// serves the kick-off, the polling and the downloads. [ExportTypes],
// [ExportSince] and [ExportParam] (_typeFilter, _outputFormat and the
// others) shape the request; [ExportPolling], [ExportRetries],
// [ExportProgress] and [ExportSleep] the waiting; [ExportMaxLine],
// [ExportBadLine] and [ExportFileClient] the downloads. Without options an
// export asks for everything. The returned [Export] is known by its
// status URL (kept and resumed with [Conn.ResumeExport] after a restart,
// stopped with [Export.Cancel], a DELETE). [Export.Wait] polls it as the
// server asks (Retry-After and X-Progress honoured, within the bounds of
// [ExportPolling]; 429 and 503 are waited out, other transient failures
// retried [ExportRetries] times) until the [Manifest] is ready, and ctx
// bounds the whole export. Each output file is then streamed at constant
// memory by [ExportFile] (typed), [Conn.ExportResources] (any type),
// [Conn.ExportLines] (raw) or [Conn.ExportIssues] (error files, read as
// OperationOutcome issues), decoded as the connection decodes ([Lenient]
// included), and a download cut short resumes after its last complete
// line (Range), never restarts.
//
// As with [Search], an error yielded by these iterations is always the
// end: the download failed (a 4xx, a 5xx or a network failure after the
// retries, a cancelled context) or the server broke the protocol
// ([ErrBulkProtocol]); return it, since a "log and continue" would turn a
// failed download into a shorter file. A line that cannot be used (it
// does not decode, or is too long) is an *[ExportLineError]: with an
// [ExportBadLine] function in the options it goes there and the file goes
// on, so the loop sees only failures; without one it ends the iteration
// too.
//
// What a server sends is bounded: a line by [ExportMaxLine] (16 MiB; a
// longer line is a bad line wrapping [ErrBodyTooLarge]), a run of blank
// lines by the same number of bytes and a line's skipped length by twice that (past
// either the file ends with [ErrBulkProtocol], so a server sending without
// end never keeps the loop from its consumer); X-Progress reaches
// [ExportStatus] as one line of at most 100 bytes, without control or
// format characters (no bidi override). The access token goes with a file
// only when the manifest requires it (requiresAccessToken), and then only
// to the base URL's origin ([ErrCrossOrigin]); other files are downloaded
// by a client of their own ([ExportFileClient]).
//
//	opts := []fhir.ExportOption{
//		fhir.ExportTypes("Patient", "Observation"), fhir.ExportSince(last),
//		fhir.ExportProgress(func(s fhir.ExportStatus) { log.Print(s.Progress) }),
//		fhir.ExportBadLine(func(bad *fhir.ExportLineError) { log.Print(bad) }),
//	}
//	x, err := ehr.Export(ctx, opts...)
//	if err != nil {
//		return err
//	}
//	m, err := x.Wait(ctx)
//	if err != nil {
//		return err
//	}
//	for _, f := range m.Output {
//		for r, err := range ehr.ExportResources(ctx, m, f, opts...) {
//			if err != nil {
//				return err // the download failed: never "continue"
//			}
//			…
//		}
//	}
//
// go run ./examples/bulk exports from an in-process fhirtest server behind
// SMART Backend Services and prints a progress line and the counts per
// type.
//
// # Errors
//
// Failures are *[Error] values carrying the status and the server's
// OperationOutcome issues: the first 20 of them ([Error.MoreIssues]
// counts the others, which are never decoded into anything kept), read
// from at most the first MiB of an error body. Each wraps the connection's *rest.Error, so the
// one taxonomy of HTTP outcomes applies to FHIR calls as to REST ones:
// errors.Is matches rest.ErrNotFound, rest.ErrGone, rest.ErrConflict,
// rest.ErrPreconditionFailed, rest.ErrServerError, rest.ErrTransport (no
// response at all) and the other rest sentinels. A resource that does not
// fit its model gives a *[DecodeError] naming the resource type and the
// JSON path. Resources of unknown type (Bundle entries, operation results)
// are decoded by [DecodeResource]. No error holds the credential the
// request carried, nor a search value that may be personal data: the
// values of parameters that only shape the result (_count, _sort,
// _include, _revinclude, _summary, _elements, _total, _type…) stay in
// error URLs and texts; every other value is blanked out of URLs, and out
// of what the server or a transport wrote — diagnostics, excerpts — as a
// whole token only, with its parts and without its search prefix, so a
// "4" never eats into "400".
//
// # Connections from the configuration file
//
// The fhir section of a configuration file (package rest/backends)
// declares FHIR connections with the same settings as REST ones, in the
// same registry: one load, one open, one lookup. The registry builds each
// FHIR connection once over its rest connection, so FHIR calls get the
// same TLS, pool, timeout, retries and tokens (cached, renewed, 401 →
// renew → resend once) as REST calls, and the server's capabilities are
// read once per connection.
//
//	cfg, err := backends.Load("tokenwire.yaml")
//	reg, err := backends.Open(ctx, cfg)
//	defer reg.Close()
//	ehr, err := reg.FHIR("ehr") // unknown name: errors.Is backends.ErrUnknownConnection
//
// # SMART Backend Services
//
// With Epic, Oracle Health or any SMART-conformant server, a connection
// needs only a base URL, a client id, a key and scopes. A connection with
// smart: true whose oauth2 definition has no token_url is SMART Backend
// Services: client credentials with a fresh private_key_jwt assertion on
// every token request (RS384 or ES384, kid required, a jti, exp at most 5
// minutes ahead, aud the token endpoint), the token endpoint read from the
// server's .well-known/smart-configuration when the first token is needed,
// and kept for an hour (by oauthclient, which finds a token endpoint in
// any discovery document: oauthclient.Config.DiscoveryURL,
// oauthclient.SMARTBackendServices, which also completes a definition
// built in code):
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
// # Testing
//
// Package fhir/fhirtest is an in-memory FHIR server for your tests:
// versioning, search, paging, OperationOutcome errors, ETags, 304 and 412,
// conditional writes, transactions with urn:uuid: and conditional
// references, history with _since and _at, Patient and Encounter
// $everything, $validate with a small rule set, a terminology service
// over a small lab code system (and the CodeSystem, ValueSet and
// ConceptMap resources you store), Patient compartments, POST _search
// and a 414 for a URL over 8 KiB, a CapabilityStatement, token checking,
// and an asynchronous $export with polling, a manifest and Range
// downloads.
package fhir
