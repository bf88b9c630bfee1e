package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Resolve returns the resources that refs point to, by their reference
// as written (ref.Reference), each decoded by [DecodeResource]. Each
// target is read once however many references name it — a relative
// "Patient/123", the same as an absolute reference on the connection's
// base URL, a version "Patient/123/_history/2" — so resolving the
// subjects and performers of a hundred Observations reads each Patient
// and Practitioner once. Up to four reads are in flight at once.
//
// in is where to look before reading, or nil: the resource that holds
// the references, whose contained resources answer "#id" references ("#"
// is the resource itself) — as JSON (json.RawMessage or []byte, such as
// an entry of a Bundle), since the models have no contained element; a
// *models.Bundle (a transaction response, a
// page of [Conn.Pages]), whose entries answer by fullUrl — urn:uuid:
// included — and by "Type/id"; or a *[Page] of [SearchPages], whose
// matches and _include resources answer first.
//
// A reference to another server is never read (the connection's token
// stays on its base URL), nor is a logical one (an identifier only); a
// read answered with another resource (another type or id) resolves
// nothing. Each
// reference that cannot be resolved is one error of the errors.Join
// returned beside the resources that could, naming the reference and
// wrapping the cause (errors.Is rest.ErrNotFound, rest.ErrGone…), in
// the order of refs; a cancelled ctx ends the call, and each reference
// not read by then is an error that matches ctx's.
func (c *Conn) Resolve(ctx context.Context, in any, refs ...models.Reference) (map[string]any, error) {
	local, err := c.localOf(in)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	errs := make([]error, len(refs)) // by reference, in the caller's order
	seen := map[string]bool{}
	var reads []string            // "Type/id" to read, each once, in order
	waiting := map[string][]int{} // by "Type/id": the references it answers
	for i, ref := range refs {
		if ref.Reference == nil || *ref.Reference == "" {
			errs[i] = fmt.Errorf("fhir: %s: resolve: reference %d has no reference element (a logical reference names no resource to read)", c.name, i)
			continue
		}
		r := *ref.Reference
		if seen[r] {
			continue
		}
		seen[r] = true
		rel, v, err := c.resolveLocal(local, r)
		switch {
		case err != nil:
			errs[i] = err
		case rel == "":
			out[r] = v
		default:
			if waiting[rel] == nil {
				reads = append(reads, rel)
			}
			waiting[rel] = append(waiting[rel], i)
		}
	}
	for j, got := range c.readAll(ctx, reads) {
		for _, i := range waiting[reads[j]] {
			if got.err != nil {
				errs[i] = fmt.Errorf("fhir: %s: resolve %s: %w", c.name, reads[j], got.err)
			} else {
				out[*refs[i].Reference] = got.v
			}
		}
	}
	return out, errors.Join(errs...)
}

// resolveLocal finds r in local, as written or as "Type/id"; when it is
// not there, rel is the "Type/id" to read.
func (c *Conn) resolveLocal(local *local, r string) (rel string, v any, err error) {
	if v, ok, err := local.find(r); ok || err != nil {
		return "", v, err
	}
	if rel, err = c.relative(r); err != nil {
		return "", nil, err
	}
	if v, ok, err := local.find(rel); ok || err != nil {
		return "", v, err
	}
	return rel, nil, nil
}

// resolveReaders is how many reads Resolve has in flight at most: a
// hundred targets take a few round trips' time, not a hundred, and no
// server sees more than a client's usual handful of connections.
const resolveReaders = 4

type readResult struct {
	v   any
	err error
}

// readAll reads each of rels ("Type/id"), up to resolveReaders at once,
// and returns their results in order. A read not started when ctx ends
// is ctx's error. The goroutines end before it returns; a panic in one
// (a Doer's) is raised again here, in the caller's goroutine, and so is a
// runtime.Goexit (a test's t.FailNow in a fake Doer): it ends the
// caller's goroutine, where it left that read with no result and no
// error, taken for a resource resolved to nil.
func (c *Conn) readAll(ctx context.Context, rels []string) []readResult {
	got := make([]readResult, len(rels))
	var (
		wg     sync.WaitGroup
		slots  = make(chan struct{}, resolveReaders)
		mu     sync.Mutex
		crash  any
		exited bool
	)
	for j, rel := range rels {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			for k := j; k < len(rels); k++ {
				got[k].err = err
			}
			break
		}
		wg.Add(1)
		go func() {
			returned := false
			defer func() {
				p := recover()
				mu.Lock()
				if p != nil {
					crash = p
				} else if !returned {
					exited = true // runtime.Goexit in the Doer
				}
				mu.Unlock()
				<-slots
				wg.Done()
			}()
			v, err := c.get(ctx, rel, nil)
			if err == nil {
				err = answers(rel, v)
			}
			got[j] = readResult{v, err}
			returned = true
		}()
	}
	wg.Wait()
	if crash != nil {
		panic(crash)
	}
	if exited {
		runtime.Goexit()
	}
	return got
}

// local is what Resolve finds without reading: resources by reference,
// decoded when first found.
type local struct {
	conn *Conn
	page interface{ lookup(string) (any, bool) }
	self any                        // the container, for "#"
	raw  map[string]json.RawMessage // by "#id", fullUrl or "Type/id"
	done map[string]any
}

func (l *local) find(ref string) (any, bool, error) {
	if ref == "#" && l.self != nil {
		return l.self, true, nil
	}
	if l.page != nil {
		if v, ok := l.page.lookup(ref); ok {
			return v, true, nil
		}
	}
	if v, ok := l.done[ref]; ok {
		return v, true, nil
	}
	raw, ok := l.raw[ref]
	if !ok {
		if strings.HasPrefix(ref, "#") {
			return nil, false, fmt.Errorf("fhir: %s: resolve: no contained resource %s", l.conn.name, quoted(ref, 64))
		}
		return nil, false, nil
	}
	v, err := decodeResource(raw, l.conn.dec)
	if err != nil {
		return nil, false, fmt.Errorf("fhir: %s: resolve %s: %w", l.conn.name, shownURL(ref), err)
	}
	l.done[ref] = v
	return v, true, nil
}

// localOf indexes in (nil, a *models.Bundle, a *Page or a resource).
func (c *Conn) localOf(in any) (*local, error) {
	l := &local{conn: c, raw: map[string]json.RawMessage{}, done: map[string]any{}}
	switch v := in.(type) {
	case nil:
	case interface{ lookup(string) (any, bool) }:
		l.page = v
	case *models.Bundle:
		for _, e := range v.Entry {
			if len(e.Resource) == 0 {
				continue
			}
			if e.FullUrl != nil && *e.FullUrl != "" {
				l.raw[*e.FullUrl] = e.Resource
			}
			if id, err := identify(e.Resource); err == nil && id.ID != "" {
				l.raw[id.ResourceType+"/"+id.ID] = e.Resource
			}
		}
	case []byte:
		return c.localOf(json.RawMessage(v))
	default:
		body, err := marshal(in)
		if err != nil {
			return nil, fmt.Errorf("fhir: %s: resolve: %w", c.name, err)
		}
		var holder struct {
			Contained []json.RawMessage `json:"contained"`
		}
		if err := json.Unmarshal(body, &holder); err != nil {
			return nil, fmt.Errorf("fhir: %s: resolve: the resource holding the references: %w", c.name, err)
		}
		for _, raw := range holder.Contained {
			var id struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &id) == nil && id.ID != "" {
				l.raw["#"+id.ID] = raw
			}
		}
		if raw, ok := in.(json.RawMessage); ok {
			l.raw["#"] = raw // decoded when asked for
		} else {
			l.self = in
		}
	}
	return l, nil
}

// lookup finds a resource of the page by fullUrl or "Type/id".
func (p *Page[T]) lookup(ref string) (any, bool) {
	v, ok := p.included[ref]
	return v, ok
}

// answers checks that v, read for rel ("Type/id[/_history/v]"), is that
// resource: a server answering a read with another resource must not
// have it taken for the one referred to.
func answers(rel string, v any) error {
	want, rest, _ := strings.Cut(rel, "/")
	wantID, _, _ := strings.Cut(rest, "/")
	var rt, id string
	if raw, ok := v.(json.RawMessage); ok {
		got, _ := identify(raw)
		rt, id = got.ResourceType, got.ID
	} else if p := reflect.ValueOf(v); p.Kind() == reflect.Pointer && p.Elem().Kind() == reflect.Struct {
		rt = p.Elem().Type().Name()
		if f := p.Elem().FieldByName("Id"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
			id = f.Elem().String()
		}
	}
	if rt != want || (id != "" && id != wantID) {
		return fmt.Errorf("the server answered %s/%s", quoted(rt, 64), quoted(id, 64))
	}
	return nil
}
