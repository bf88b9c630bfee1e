package fhir

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/internal/fhirjson"
)

// Tx is a transaction or batch being built; the zero value is empty and
// ready. Each entry is added by [Tx.Create] or [Tx.Add], which return the
// entry's key: for a create (and a conditional update) the urn:uuid: full
// URL the server replaces by the new resource's "Type/id" everywhere in
// the transaction, so that resources created together refer to each other
// by it; otherwise the entry's url ("Patient/123"). [Conn.Transaction] and
// [Conn.Batch] send it and answer each entry's result by its key:
//
//	var tx fhir.Tx
//	pat := tx.Create(&models.Patient{Identifier: ids}, fhir.IfNoneExist(fhir.Params().Token("identifier", sys, mrn)))
//	tx.Create(&models.Observation{Subject: &models.Reference{Reference: &pat}, …})
//	other := "Patient?identifier=" + sys + "|" + otherMRN // a conditional reference
//	tx.Create(&models.Encounter{Subject: &models.Reference{Reference: &other}, …})
//	res, err := ehr.Transaction(ctx, &tx)
//	fmt.Println(res[pat].ID, res[pat].VersionID, res[pat].Status) // 201 created, 200 when it existed
//
// A reference may also be conditional, "Type?search" as in the
// Encounter above: the server replaces it by the one resource the search
// finds, and rejects the transaction when none or several match.
// A Tx is not safe for concurrent use while it is built; sending it
// does not change it, so it may be sent again.
type Tx struct {
	entries []txEntry
	keys    map[string]int
	err     error // the first mistake, reported when the Tx is sent
}

type txEntry struct {
	key     string
	method  models.HTTPVerb
	url     string
	body    []byte
	full    string // the fullUrl: urn:uuid:… or "" (filled in at send for PUT Type/id)
	ifNone  string
	ifMatch string
}

// Create adds POST [type] of res (a model, or JSON) and returns the
// urn:uuid: full URL that stands for it: put it in References of other
// resources of the transaction. With [IfNoneExist] the create is
// conditional: when one resource matches, nothing is created, the key's
// result is that resource (Status 200) and the references to the key
// point to it. [ReturnMinimal] and [ReturnOutcome] are options of the
// whole Bundle, given to [Conn.Transaction] or [Conn.Batch].
func (t *Tx) Create(res any, opts ...WriteOption) string {
	body, id, err := encode(res)
	if err != nil {
		t.fail(fmt.Errorf("fhir: transaction entry %d: %w", len(t.entries), err))
		return ""
	}
	return t.add(http.MethodPost, id.ResourceType, body, id.Meta.VersionID, opts)
}

// Add adds any other entry: method (PUT, DELETE, GET, HEAD, POST) on url
// relative to the base ("Patient/123", "Patient?identifier=…" for a
// conditional update or delete, "Observation?code=…" for a search in a
// batch), with res for a PUT or a POST (nil otherwise). It returns the
// entry's key: a urn:uuid: for a POST or a conditional PUT, which other
// resources may refer to, else url. A PUT of a resource with
// meta.versionId is sent with ifMatch, as [Update] does ([IfMatch]
// overrides it, IfMatch("") leaves it out); [IfNoneExist] applies to a
// POST. A second entry with the key of an earlier one is refused: a
// transaction touches a resource once.
func (t *Tx) Add(method, url string, res any, opts ...WriteOption) string {
	var body []byte
	var version string
	if res != nil {
		b, id, err := encode(res)
		if err != nil {
			t.fail(fmt.Errorf("fhir: transaction entry %d: %w", len(t.entries), err))
			return ""
		}
		body, version = b, id.Meta.VersionID
	}
	return t.add(method, url, body, version, opts)
}

func (t *Tx) add(method, url string, body []byte, version string, opts []WriteOption) string {
	n := len(t.entries)
	var verb models.HTTPVerb
	if err := verb.UnmarshalJSON([]byte(strings.ToUpper(method))); err != nil {
		t.fail(fmt.Errorf("fhir: transaction entry %d: method %q: %w", n, method, err))
		return ""
	}
	url = strings.TrimPrefix(url, "/")
	path, query, conditional := strings.Cut(url, "?")
	segs := strings.Split(path, "/")
	if err := checkType(segs[0]); err != nil {
		t.fail(fmt.Errorf("fhir: transaction entry %d: url: %w", n, err))
		return ""
	}
	if (body != nil) != (verb == models.HTTPVerbPOST || verb == models.HTTPVerbPUT) {
		t.fail(fmt.Errorf("fhir: transaction entry %d: %s %s: a resource goes with POST and PUT, and only with them", n, verb.Code(), segs[0]))
		return ""
	}
	o := apply(opts)
	if o.prefer != "" {
		t.fail(fmt.Errorf("fhir: transaction entry %d: ReturnMinimal and ReturnOutcome apply to the whole Bundle: give them to Transaction or Batch", n))
		return ""
	}
	e := txEntry{key: url, method: verb, url: url, body: body}
	if o.ifNoneExist != nil {
		e.ifNone = o.ifNoneExist.Values().Encode()
	}
	if verb != models.HTTPVerbPOST { // a create has no version to lock
		e.ifMatch = o.headers(version).Get("If-Match")
	}
	if verb == models.HTTPVerbPOST || (verb == models.HTTPVerbPUT && conditional && query != "") {
		e.full = newURN()
		e.key = e.full
	}
	if i, dup := t.keys[e.key]; dup {
		t.fail(fmt.Errorf("fhir: transaction entry %d: %s %s is already entry %d (a transaction touches a resource once)", n, verb.Code(), segs[0], i))
		return ""
	}
	if t.keys == nil {
		t.keys = map[string]int{}
	}
	t.keys[e.key] = n
	t.entries = append(t.entries, e)
	return e.key
}

func (t *Tx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// newURN returns a fresh urn:uuid: (a random, version 4 UUID).
func newURN() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// bundle is the Bundle of t, of type typ, for the server at c.
func (t *Tx) bundle(c *Conn, typ models.BundleType) (*models.Bundle, error) {
	if t != nil && t.err != nil {
		return nil, fmt.Errorf("fhir: %s: %s not sent: %w", c.name, typ.Code(), t.err)
	}
	if t == nil || len(t.entries) == 0 {
		return nil, fmt.Errorf("fhir: %s: %s: no entries", c.name, typ.Code())
	}
	b := &models.Bundle{Type: typ, Entry: make([]models.BundleEntry, len(t.entries))}
	for i, e := range t.entries {
		req := &models.BundleEntryRequest{Method: e.method, Url: e.url}
		if e.ifNone != "" {
			req.IfNoneExist = &e.ifNone
		}
		if e.ifMatch != "" {
			req.IfMatch = &e.ifMatch
		}
		full := e.full
		if full == "" && e.body != nil {
			full = c.BaseURL() + "/" + e.url // PUT Type/id: the resource's own URL
		}
		b.Entry[i] = models.BundleEntry{Request: req, Resource: e.body}
		if full != "" {
			b.Entry[i].FullUrl = &full
		}
	}
	return b, nil
}

// Transaction sends tx as a transaction Bundle (POST [base]): the server
// makes all its entries or none, and a failed transaction is an *[Error]
// (errors.Is rest.ErrPreconditionFailed, rest.ErrConflict… as the server
// answered). The result holds each entry's [Entry] by the key [Tx.Create]
// or [Tx.Add] returned: the id and version the server gave a created
// resource (that urn:uuid: references now name), Status, Location and
// the resource itself (Prefer: return=representation, unless opts hold
// [ReturnMinimal] or [ReturnOutcome]); the transaction has been made even
// when a returned resource does not decode (its Entry has Err). A
// response that does not answer the entries one for one, in their order
// (another count, a location or resource of another type than its
// entry's, what an operation such as Patient/$match returns aside) is an
// error with no result, as is an OperationOutcome answered instead of a
// Bundle: no result is better than ids given to the wrong keys. A
// response that answers an entry with a failure (a 4xx or 5xx status; a
// DELETE's 404 or 410 aside) contradicts itself, since a transaction is
// made whole or not at all: it comes with an error naming each such entry
// and with the results, what the server says it made, so that a caller
// neither takes it as made nor sends it again blind (duplicates).
func (c *Conn) Transaction(ctx context.Context, tx *Tx, opts ...WriteOption) (map[string]*Entry, error) {
	return c.sendTx(ctx, tx, models.BundleTypeTransaction, opts)
}

// Batch sends tx as a batch Bundle (POST [base]): every entry succeeds or
// fails on its own, and a failed entry is a result like the others, with
// its Status (>= 400) and the server's Issues. Entries of a batch may not
// refer to each other. The results are by key, as for [Conn.Transaction].
func (c *Conn) Batch(ctx context.Context, tx *Tx, opts ...WriteOption) (map[string]*Entry, error) {
	return c.sendTx(ctx, tx, models.BundleTypeBatch, opts)
}

func (c *Conn) sendTx(ctx context.Context, tx *Tx, typ models.BundleType, opts []WriteOption) (map[string]*Entry, error) {
	b, err := tx.bundle(c, typ)
	if err != nil {
		return nil, err
	}
	body, err := marshal(b)
	if err != nil {
		return nil, err
	}
	h := apply(opts).headers("")
	h.Del("If-Match")
	h.Del("If-None-Exist")
	k := call{method: http.MethodPost, url: c.url(nil), body: body, header: h, searches: tx.searches}
	r, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := c.outcomeInstead(k, r, typ.Code(), "Bundle"); err != nil {
		return nil, err
	}
	// The entries are bounded before memory is taken for them, as a
	// page's are: 16 MiB of {} would be millions of them.
	dc := c.owned()
	dc.maxArray = max(len(tx.entries), c.limits.maxEntries)
	out, err := decode[models.Bundle](r.body, dc)
	if errors.Is(err, fhirjson.ErrTooLong) {
		return nil, fmt.Errorf("fhir: %s: %s: the server answered more than %d entries for %d (see WithMaxEntries): %w",
			c.name, typ.Code(), dc.maxArray, len(tx.entries), ErrBodyTooLarge)
	}
	if err != nil {
		return nil, err
	}
	if err := tx.matches(out, typ); err != nil {
		return nil, fmt.Errorf("fhir: %s: %s: %w", c.name, typ.Code(), err)
	}
	res := make(map[string]*Entry, len(tx.entries))
	var failed []error
	for i, e := range tx.entries {
		res[e.key] = c.entryOf(&out.Entry[i], 1, i)
		if typ != models.BundleTypeTransaction {
			continue
		}
		if err := madeEntry(&out.Entry[i], e.method); err != nil {
			failed = append(failed, fmt.Errorf("fhir: %s: transaction: entry %d (%s %s): %w", c.name, i, e.method.Code(), shownURL(e.url), err))
		}
	}
	return res, errors.Join(failed...)
}

// matches checks that out answers t, entry by entry in the same order, as
// the specification requires: a response Bundle of the type's response
// type, as many entries, and no entry whose location or resource is of
// another type than its request's — entries out of order would give one
// resource's id to another. An operation's entry is not checked: it
// returns what it returns (a Bundle, Parameters).
func (t *Tx) matches(out *models.Bundle, typ models.BundleType) error {
	want := models.BundleTypeTransactionResponse
	if typ == models.BundleTypeBatch {
		want = models.BundleTypeBatchResponse
	}
	if out.Type != want {
		return fmt.Errorf("a Bundle of type %s, not %s", out.Type.Code(), want.Code())
	}
	if len(out.Entry) != len(t.entries) {
		return fmt.Errorf("the server answered %d entries for %d", len(out.Entry), len(t.entries))
	}
	for i, e := range t.entries {
		path, _, _ := strings.Cut(e.url, "?")
		if strings.Contains(path, "$") {
			continue // an operation (Patient/$match): what it returns is its own
		}
		rt, _, _ := strings.Cut(path, "/")
		if got, named := answeredType(&out.Entry[i], e.method); named && got != rt {
			if got == "" {
				got = "no resource type"
			}
			return fmt.Errorf("entry %d (%s %s) was answered for %s: the response entries are not in the order of the request",
				i, e.method.Code(), rt, got)
		}
	}
	return nil
}

// madeEntry refuses an entry of a transaction-response that says it
// failed: the server makes all the entries or none, so a failed one
// beside a 200 leaves unknown what was made. A DELETE of what is not
// there (404, 410) has done what it asked.
func madeEntry(e *models.BundleEntry, method models.HTTPVerb) error {
	if e.Response == nil {
		return nil
	}
	code, ok := statusCode(e.Response.Status)
	if !ok || code < 400 {
		return nil // a status that is none is the Entry's Err
	}
	if method == models.HTTPVerbDELETE && (code == http.StatusNotFound || code == http.StatusGone) {
		return nil
	}
	return fmt.Errorf("answered %d in a transaction answered as made: what the server made is unknown", code)
}

// answeredType is the resource type an entry's response names: that of
// its response.location, or of the resource a write returned (an
// OperationOutcome aside); named is false when it names none, rt is ""
// when what it names is no type.
func answeredType(e *models.BundleEntry, method models.HTTPVerb) (rt string, named bool) {
	if r := e.Response; r != nil && r.Location != nil && *r.Location != "" {
		loc, _, _ := strings.Cut(*r.Location, "?")
		parts := strings.Split(strings.TrimSuffix(loc, "/"), "/")
		n := len(parts)
		if n >= 4 && parts[n-2] == "_history" {
			n -= 2
		}
		if n < 2 || checkType(parts[n-2]) != nil {
			return "", true
		}
		return parts[n-2], true
	}
	if len(e.Resource) == 0 || (method != models.HTTPVerbPOST && method != models.HTTPVerbPUT) {
		return "", false
	}
	rt, err := resourceTypeOf(e.Resource)
	if err != nil || rt == "OperationOutcome" {
		return "", false // a resource that does not decode is its Entry's Err
	}
	if checkType(rt) != nil {
		return "", true
	}
	return rt, true
}

// searches are the queries of t's entries — If-None-Exist, conditional
// URLs, conditional references ("Patient?identifier=…") in its resources
// — whose values an error must not show, as it hides a search URL's.
func (t *Tx) searches() []string {
	var qs []string
	for _, e := range t.entries {
		qs = append(qs, e.ifNone)
		if _, q, ok := strings.Cut(e.url, "?"); ok {
			qs = append(qs, q)
		}
		if e.body != nil {
			var v any
			if json.Unmarshal(e.body, &v) == nil {
				qs = conditionalRefs(v, qs)
			}
		}
	}
	return qs
}

// conditionalRefs appends the queries of the conditional references in v
// (decoded JSON) to qs.
func conditionalRefs(v any, qs []string) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "reference" {
				if _, q, ok := strings.Cut(s, "?"); ok {
					qs = append(qs, q)
				}
				continue
			}
			qs = conditionalRefs(x, qs)
		}
	case []any:
		for _, x := range v {
			qs = conditionalRefs(x, qs)
		}
	}
	return qs
}

// outcomeInstead is the failure of a call (what) that wants a resource of
// type want and was answered, with a status < 400, by an
// OperationOutcome: its issues say why, scrubbed as a 4xx's. It is nil
// for any other answer.
func (c *Conn) outcomeInstead(k call, r *reply, what, want string) error {
	if rt, _ := resourceTypeOf(r.body); rt != "OperationOutcome" {
		return nil
	}
	fe := c.statusError(k, &http.Response{StatusCode: r.status, Request: r.req}, r.body)
	return fmt.Errorf("fhir: %s: %s: the server answered an OperationOutcome, not a %s: %w", c.name, what, want, fe)
}
