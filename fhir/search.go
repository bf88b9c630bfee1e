package fhir

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"reflect"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/internal/fhirjson"
)

// SearchOption adjusts a search or history iteration.
type SearchOption func(*searchOpts)

type searchOpts struct {
	post     bool
	maxPages int
}

// UsePost sends the first page as POST [type]/_search with a form body, so
// that search values stay out of URLs and logs. Next pages follow the
// server's links.
func UsePost() SearchOption { return func(o *searchOpts) { o.post = true } }

// MaxPages stops quietly after n pages. 0 (the default) follows "next"
// links for at most [DefaultMaxPages] pages, failing with [ErrTooManyPages]
// if the server offers more; a negative n follows them to the end.
func MaxPages(n int) SearchOption { return func(o *searchOpts) { o.maxPages = n } }

// DefaultMaxPages bounds the pages of a search or history without
// [MaxPages]: generous for a search (at _count=100, a hundred thousand
// resources), it stops a server whose "next" links never end. Larger
// extracts are the job of bulk export.
const DefaultMaxPages = 1000

var (
	// ErrTooManyPages is returned after [DefaultMaxPages] pages when the
	// server still offers a "next" link.
	ErrTooManyPages = errors.New("fhir: too many pages (see MaxPages)")
	// ErrPagingLoop is returned when a "next" link names a page already
	// fetched by the same iteration.
	ErrPagingLoop = errors.New("fhir: next link loops back to a page already fetched")
	// ErrPageTooLarge is returned for a page with more entries (or links)
	// than the connection's bound (see [WithMaxEntries]).
	ErrPageTooLarge = errors.New("fhir: page too large")
)

// DefaultMaxEntries bounds the entries (and the links) of one page: ten
// times the largest page size servers commonly allow.
const DefaultMaxEntries = 10000

type pageLimits struct{ maxEntries int }

var defaultPageLimits = pageLimits{maxEntries: DefaultMaxEntries}

// WithMaxEntries bounds the entries and links of each page of a search or
// history to n (default [DefaultMaxEntries]). A page over the bound fails
// with [ErrPageTooLarge] before memory is taken for its entries: a 16 MiB
// page of empty entries would otherwise cost gigabytes.
func WithMaxEntries(n int) Option {
	return func(c *Conn) {
		if n > 0 {
			c.limits.maxEntries = n
		}
	}
}

// Entry is one entry of a searchset or history page.
type Entry struct {
	FullURL  string
	Mode     string // search mode: "match", "include", "outcome" or ""
	Method   string // history: the request method (PUT, DELETE …)
	Status   string // history: the response status
	Resource any    // decoded by DecodeResource; nil for a deleted version
	// Raw is the resource as the server sent it: the codes a Lenient
	// decode went past are there. It points into the page's body.
	Raw json.RawMessage
}

// Pages runs a search (GET [type]?[q], or POST [type]/_search with
// [UsePost]; resourceType "" searches all types) and yields one Bundle per
// page, following "next" links. Only the current page is held: a page is
// released when the loop body moves on. Stop early by breaking out of the
// loop. A next link must be on the base URL's origin and name a page not
// yet fetched ([ErrPagingLoop]); see [MaxPages] for the page cap. The
// sequence may be ranged again, or from several goroutines: each range
// starts at the first page.
func (c *Conn) Pages(ctx context.Context, resourceType string, q *Query, opts ...SearchOption) iter.Seq2[*models.Bundle, error] {
	o := searchOpts{}
	for _, f := range opts {
		f(&o)
	}
	first, err := c.searchCall(resourceType, q, o.post)
	return c.pages(ctx, first, err, o.maxPages)
}

func (c *Conn) searchCall(resourceType string, q *Query, post bool) (call, error) {
	if resourceType != "" {
		if err := checkType(resourceType); err != nil {
			return call{}, err
		}
	}
	if !post {
		return call{method: http.MethodGet, url: c.url(q.Values(), resourceType)}, nil
	}
	return call{method: http.MethodPost, url: c.url(nil, resourceType, "_search"),
		body: []byte(q.Encode()), ctype: "application/x-www-form-urlencoded", safe: true}, nil
}

// Entries yields the entries of every page of a search (matches and
// included resources), decoded by dispatch on resourceType.
func (c *Conn) Entries(ctx context.Context, resourceType string, q *Query, opts ...SearchOption) iter.Seq2[Entry, error] {
	return c.entries(c.Pages(ctx, resourceType, q, opts...))
}

// Search yields the matches of type T of a search, page by page, following
// "next" links; included resources are skipped (use [Conn.Entries]).
//
//	for p, err := range fhir.Search[models.Patient](ctx, conn, fhir.Params().Add("family", "Chalmers")) {
//		if err != nil { return err }
//		…
//	}
func Search[T any](ctx context.Context, c *Conn, q *Query, opts ...SearchOption) iter.Seq2[*T, error] {
	rt, err := modelType[T]()
	return func(yield func(*T, error) bool) {
		if err != nil {
			yield(nil, err)
			return
		}
		n := 0
		for b, err := range c.Pages(ctx, rt, q, opts...) {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
			for i := range b.Entry {
				e := &b.Entry[i]
				if mode(e) != models.SearchEntryModeMatch {
					continue
				}
				if t, _ := ResourceType(e.Resource); t != rt {
					continue
				}
				v, err := decode[T](e.Resource, c.dec)
				if err != nil {
					err = c.entryError(n, i, err)
				}
				if !yield(v, err) {
					return
				}
			}
		}
	}
}

// mode is an entry's search mode; an entry without one is a match.
func mode(e *models.BundleEntry) models.SearchEntryMode {
	if e.Search == nil || e.Search.Mode == nil {
		return models.SearchEntryModeMatch
	}
	return *e.Search.Mode
}

// entryError names the page and the entry whose resource did not decode;
// the iteration goes on with the next entry.
func (c *Conn) entryError(page, entry int, err error) error {
	return fmt.Errorf("fhir: %s: page %d, entry %d: %w", c.name, page, entry, err)
}

// History yields the history of one resource (GET [type]/[id]/_history),
// of a type (id "") or of the whole server (type and id ""), page by page.
func (c *Conn) History(ctx context.Context, resourceType, id string, q *Query, opts ...SearchOption) iter.Seq2[*models.Bundle, error] {
	o := searchOpts{}
	for _, f := range opts {
		f(&o)
	}
	var err error
	if resourceType != "" {
		err = checkType(resourceType)
	}
	if id != "" && err == nil {
		err = checkID("id", id)
	}
	first := call{method: http.MethodGet, url: c.url(q.Values(), resourceType, id, "_history")}
	return c.pages(ctx, first, err, o.maxPages)
}

// HistoryEntries is [Conn.History] flattened to entries.
func (c *Conn) HistoryEntries(ctx context.Context, resourceType, id string, q *Query, opts ...SearchOption) iter.Seq2[Entry, error] {
	return c.entries(c.History(ctx, resourceType, id, q, opts...))
}

// pages follows the "next" links from first. Each range starts again at
// first, so a sequence may be ranged twice, or from several goroutines.
// Only hashes of the links followed are kept.
func (c *Conn) pages(ctx context.Context, first call, err error, maxPages int) iter.Seq2[*models.Bundle, error] {
	capped := maxPages == 0
	if capped {
		maxPages = DefaultMaxPages
	}
	return func(yield func(*models.Bundle, error) bool) {
		if err != nil {
			yield(nil, err)
			return
		}
		k := first
		seen := map[[sha256.Size]byte]bool{}
		for n := 0; ; n++ {
			if k.method == http.MethodGet {
				seen[sha256.Sum256([]byte(k.url))] = true
			}
			b, err := c.bundle(ctx, k)
			if err != nil {
				yield(nil, err)
				return
			}
			next := link(b, "next")
			if !yield(b, nil) || next == "" {
				return
			}
			if !capped && maxPages > 0 && n+1 >= maxPages {
				return // MaxPages(n) stops quietly
			}
			if err := c.checkNext(next, seen, capped && n+1 >= maxPages); err != nil {
				yield(nil, err)
				return
			}
			k = call{method: http.MethodGet, url: next}
		}
	}
}

// MaxLinkLength bounds the length of a "next" link.
const MaxLinkLength = 32 << 10

// checkNext vets a "next" link before it is followed.
func (c *Conn) checkNext(next string, seen map[[sha256.Size]byte]bool, overCap bool) error {
	switch {
	case len(next) > MaxLinkLength:
		return fmt.Errorf("fhir: %s: next link longer than %d bytes", c.name, MaxLinkLength)
	case !c.sameOrigin(next):
		return fmt.Errorf("fhir: %s: next link %s is not on the origin of the base URL %s", c.name, redactURL(next), c.BaseURL())
	case seen[sha256.Sum256([]byte(next))]:
		return fmt.Errorf("fhir: %s: next link %s: %w", c.name, redactURL(next), ErrPagingLoop)
	case overCap:
		return fmt.Errorf("fhir: %s: more than %d pages: %w", c.name, DefaultMaxPages, ErrTooManyPages)
	}
	return nil
}

// bundle fetches and decodes one page. The body is the page's own: the
// decoded Bundle points into it rather than copying, and no array in it
// may be longer than the connection's entry bound.
func (c *Conn) bundle(ctx context.Context, k call) (*models.Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	dc := c.owned()
	dc.maxArray = c.limits.maxEntries
	dc.allocExtra = 4 * int64(c.limits.maxEntries) * int64(reflect.TypeFor[models.BundleEntry]().Size()) // growth by doubling
	b, err := decode[models.Bundle](r.body, dc)
	if errors.Is(err, fhirjson.ErrTooLong) || errors.Is(err, fhirjson.ErrTooLarge) {
		return nil, fmt.Errorf("fhir: %s: a page with more than %d entries or links (see WithMaxEntries): %w", c.name, c.limits.maxEntries, ErrPageTooLarge)
	}
	return b, err
}

func link(b *models.Bundle, rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.Url
		}
	}
	return ""
}

func (c *Conn) entries(pages iter.Seq2[*models.Bundle, error]) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		n := 0
		for b, err := range pages {
			if err != nil {
				yield(Entry{}, err)
				return
			}
			n++
			for i := range b.Entry {
				e, err := toEntry(&b.Entry[i], c.dec)
				if err != nil {
					err = c.entryError(n, i, err)
				}
				if !yield(e, err) {
					return
				}
			}
		}
	}
}

func toEntry(be *models.BundleEntry, dec decoding) (Entry, error) {
	e := Entry{}
	if be.FullUrl != nil {
		e.FullURL = *be.FullUrl
	}
	if be.Search != nil && be.Search.Mode != nil {
		e.Mode = be.Search.Mode.Code()
	}
	if be.Request != nil {
		e.Method = be.Request.Method.Code()
	}
	if be.Response != nil {
		e.Status = be.Response.Status
	}
	if len(be.Resource) == 0 {
		return e, nil
	}
	e.Raw = be.Resource
	v, err := decodeResource(be.Resource, dec)
	e.Resource = v
	return e, err
}
