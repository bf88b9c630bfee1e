package fhir

import (
	"context"
	"crypto/sha256"
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
	compartment []string // [compartment type, id] (Compartment)
	maxPages    int
	post        bool // UsePost
}

// UsePost sends the search as POST [type]/_search with its parameters in a
// form body, whatever its length: search values (a patient's identifier,
// a name, a birth date) then stay out of URLs, and so out of the access
// logs of proxies and servers. Without it a search goes by GET, and by
// POST only when its URL would pass 8 KiB or a server answers 414.
func UsePost() SearchOption { return func(o *searchOpts) { o.post = true } }

// MaxPages stops quietly after n pages. 0 (the default) follows "next"
// links for at most 1,000 pages, failing with [ErrPagingNeverEnds]
// if the server offers more; a negative n follows them to the end.
func MaxPages(n int) SearchOption { return func(o *searchOpts) { o.maxPages = n } }

// defaultMaxPages bounds the pages of a search or history without
// [MaxPages]: generous for a search (at _count=100, a hundred thousand
// resources), it stops a server whose "next" links never end. Larger
// extracts are the job of bulk export.
const defaultMaxPages = 1000

// ErrPagingNeverEnds is wrapped when a search or history is stopped
// because the server's "next" links do not end: a link names a page
// already fetched by the same iteration, or more than 1,000 pages were
// fetched without [MaxPages] and the server still offers a "next" link
// (a silent truncation would lose results).
var ErrPagingNeverEnds = errors.New("fhir: the next links do not end")

// defaultMaxEntries bounds the entries (and the links) of one page: ten
// times the largest page size servers commonly allow.
const defaultMaxEntries = 10000

type pageLimits struct{ maxEntries int }

var defaultPageLimits = pageLimits{maxEntries: defaultMaxEntries}

// WithMaxEntries bounds the entries and links of each page of a search or
// history to n (default 10,000), and those of a transaction or batch
// response to n or the entries sent if more. A page over the bound fails
// with [ErrBodyTooLarge] before memory is taken for its entries: a 16 MiB
// page of empty entries would otherwise cost gigabytes.
func WithMaxEntries(n int) Option {
	return func(c *Conn) {
		if n > 0 {
			c.limits.maxEntries = n
		}
	}
}

// Pages runs a search (GET [type]?[q]; POST [type]/_search with a form
// body when the URL would be over 8 KiB or the server answers 414;
// resourceType "" searches all types) and yields one Bundle per
// page, following "next" links. Only the current page is held: a page is
// released when the loop body moves on. Stop early by breaking out of the
// loop. A next link must be on the base URL's origin and name a page not
// yet fetched ([ErrPagingNeverEnds]); see [MaxPages] for the page cap. The
// sequence may be ranged again, or from several goroutines: each range
// starts at the first page.
func (c *Conn) Pages(ctx context.Context, resourceType string, q *Query, opts ...SearchOption) iter.Seq2[*models.Bundle, error] {
	o := searchOpts{}
	for _, f := range opts {
		f(&o)
	}
	first, err := c.searchCall(resourceType, q, o.compartment, o.post)
	return c.pages(ctx, first, err, o.maxPages)
}

// Search yields the matches of type T of a search, one by one, following
// "next" links; included resources and outcome entries are skipped (see
// [SearchPages]).
//
// An error yielded by Search is always the end of the search: the request
// failed (a 401 after the token was renewed, a 5xx, a cancelled context),
// the server broke the paging rules, or an entry of type T did not decode
// (a [*DecodeError] naming the page and the entry). No value follows it,
// so the only right answer to it is to stop and report the failure — a
// "log and continue" would turn a rejected search into an empty result.
// To go on past entries that do not decode, use [SearchPages], which lists
// them in [Page].Errors apart from the failure of the search, or
// [Lenient], which decodes codes outside their value set.
//
//	for p, err := range fhir.Search[models.Patient](ctx, conn, fhir.Params().Add("family", "Chalmers")) {
//		if err != nil {
//			return err // the search failed: never "continue"
//		}
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
				if t, _ := resourceTypeOf(e.Resource); t != rt {
					continue
				}
				v, err := decode[T](e.Resource, c.dec)
				if err != nil {
					yield(nil, c.entryError(n, i, err))
					return
				}
				if !yield(v, nil) {
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

// entryError names the page and the entry whose resource did not decode.
func (c *Conn) entryError(page, entry int, err error) error {
	return fmt.Errorf("fhir: %s: page %d, entry %d: %w", c.name, page, entry, err)
}

// pages follows the "next" links from first. Each range starts again at
// first, so a sequence may be ranged twice, or from several goroutines.
// Only hashes of the links followed are kept.
func (c *Conn) pages(ctx context.Context, first call, err error, maxPages int) iter.Seq2[*models.Bundle, error] {
	capped := maxPages == 0
	if capped {
		maxPages = defaultMaxPages
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
			// the search values of the first request still count: a server may
			// echo them in the error of a later page, whose link lacks them
			k = call{method: http.MethodGet, url: next, searches: first.queries}
		}
	}
}

// maxLinkLength bounds the length of a "next" link.
const maxLinkLength = 32 << 10

// checkNext vets a "next" link before it is followed.
func (c *Conn) checkNext(next string, seen map[[sha256.Size]byte]bool, overCap bool) error {
	switch {
	case len(next) > maxLinkLength:
		return fmt.Errorf("fhir: %s: next link longer than %d bytes", c.name, maxLinkLength)
	case !c.sameOrigin(next):
		return fmt.Errorf("fhir: %s: next link %s is not on the origin of the base URL %s", c.name, shownURL(next), c.BaseURL())
	case seen[sha256.Sum256([]byte(next))]:
		return fmt.Errorf("fhir: %s: next link %s loops back to a page already fetched: %w", c.name, shownURL(next), ErrPagingNeverEnds)
	case overCap:
		return fmt.Errorf("fhir: %s: more than %d pages (see MaxPages): %w", c.name, defaultMaxPages, ErrPagingNeverEnds)
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
	r, err := c.doSearch(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := c.outcomeInstead(k, r, "page", "Bundle"); err != nil {
		return nil, err
	}
	dc := c.owned()
	dc.maxArray = c.limits.maxEntries
	dc.allocExtra = 4 * int64(c.limits.maxEntries) * int64(reflect.TypeFor[models.BundleEntry]().Size()) // growth by doubling
	b, err := decode[models.Bundle](r.body, dc)
	if errors.Is(err, fhirjson.ErrTooLong) || errors.Is(err, fhirjson.ErrTooLarge) {
		return nil, fmt.Errorf("fhir: %s: a page with more than %d entries or links (see WithMaxEntries): %w", c.name, c.limits.maxEntries, ErrBodyTooLarge)
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
