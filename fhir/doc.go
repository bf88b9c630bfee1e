// Package fhir is a client for HL7 FHIR R4 servers, typed with the models of
// github.com/samply/golang-fhir-models (imported here as models).
//
// A [Conn] is a named connection to one server's base URL. It sends
// requests through a [Doer] — the *rest.Conn of a configuration file's
// fhir section (package rest/backends builds the Conn), or any
// *http.Client (one from oauthclient attaches, and on 401 renews, the
// access token) — so the FHIR layer itself never sees a credential.
//
// The interactions of the RESTful API are generic functions over the model
// type, whose Go name is the resource type:
//
//	conn, _ := fhir.New("ehr", "https://ehr.example.com/fhir/R4", client)
//	p, err := fhir.Read[models.Patient](ctx, conn, "123")
//	res, err := fhir.Create(ctx, conn, &models.Patient{...})          // res.ID, res.VersionID
//	_, err = fhir.Update(ctx, conn, p)                                // If-Match: W/"<meta.versionId>"
//	for p, err := range fhir.Search[models.Patient](ctx, conn, fhir.Params().Mod("family", "exact", "Chalmers")) {
//		…                                                         // streams page by page
//	}
//
// JSON (application/fhir+json) is the only format spoken, so _format is
// never needed; _summary, _elements and Prefer: return=minimal |
// representation | OperationOutcome ([ReturnMinimal], [ReturnOutcome]) are
// there.
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
// next call, and [Conn.RefreshCapabilities] reads it anew.
// [Conn.Supports], [Conn.SupportsOperation] and [Conn.FHIRVersion] answer
// from it; [Conn.Ping] always asks metadata afresh.
//
// # Searching
//
// [Search] yields the matches of type T across every page; [SearchPages]
// yields each page with Bundle.total, its links, the matches, the
// resources _include and _revinclude brought (search mode "include") and
// the server's outcome apart, and [Page.Resolve] finds a reference among
// the page's resources first and reads it from the server second — only on
// the connection's base URL. An entry that does not decode is an error for
// that entry alone: the iteration goes on with the next one. A page is
// bounded (16 MiB, 10,000 entries and links,
// before memory is taken for them; [WithMaxBody], [WithMaxEntries]), so
// are next links (32 KiB) and the pages followed
// (1,000, [MaxPages]); only hashes of the links followed are
// kept to detect a loop.
//
// # Decoding
//
// Resources decode into the models several times faster than
// encoding/json does (BenchmarkDecodeSearchset), with exactly its results:
// a differential test over fixtures, generated documents for 16 resource
// types and a fuzz target compare the two, the models' own UnmarshalJSON
// for codes included. Strict by default, as the models are: a code outside
// its value set fails that resource with a *[DecodeError] naming the path.
// Servers that do not check bindings send such codes; with [Lenient] a
// connection keeps those resources (an optional code left nil, a required
// one -1, whose Code() is "<unknown>", so a resource read leniently is
// never written back with a wrong code) and reports each code;
// [DecodeLenient] does the same for one resource.
//
// # Bulk Data export
//
// [Conn.Export], [Conn.ExportGroup] and [Conn.ExportPatients] start a
// Bulk Data Access (IG v2.0.0) export with Prefer: respond-async; the
// returned [Export] is known by its status URL (kept and resumed with
// [Conn.ResumeExport], stopped with [Export.Cancel]). [Export.Wait] polls
// it as the server asks (Retry-After, bounded by [ExportPolling]; 429 and
// 503 are waited out) until the [Manifest] is ready, and ctx bounds the
// whole export. Each output file is then streamed at constant memory by
// [ExportFile] (typed), [Conn.ExportResources] (any type) or
// [Conn.ExportIssues] (error files), decoded as the connection decodes
// ([Lenient] included): a bad line yields an [ExportLineError] and the
// iteration goes on, and a download cut short resumes after its last
// complete line (Range). What a server sends is bounded: a line by
// [ExportMaxLine] (16 MiB; a longer line is skipped), a run of blank
// lines by the same number of bytes and a line's skipped length by twice
// that (past either the file ends with [ErrBulkProtocol], so a server
// sending without end never keeps the loop from its consumer); X-Progress reaches [ExportStatus] as one line of at most 100
// bytes, without control or format characters (no bidi override). The access token goes with a file only when the
// manifest requires it, and then only to the base URL's origin
// ([ErrCrossOrigin]).
//
//	x, err := conn.Export(ctx, fhir.ExportTypes("Patient", "Observation"), fhir.ExportSince(last))
//	m, err := x.Wait(ctx)
//	for _, f := range m.Output {
//		for r, err := range conn.ExportResources(ctx, m, f) { … }
//	}
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
