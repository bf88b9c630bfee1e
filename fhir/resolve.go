package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Resolve returns the resources that refs point to, by their reference
// as written (ref.Reference), each decoded by [DecodeResource]. Each
// target is read once however many references name it — a relative
// "Patient/123", the same as an absolute reference on the connection's
// base URL, a version "Patient/123/_history/2" — so resolving the
// subjects and performers of a hundred Observations reads each Patient
// and Practitioner once.
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
// wrapping the cause (errors.Is rest.ErrNotFound, rest.ErrGone…); a
// cancelled ctx ends the call.
func (c *Conn) Resolve(ctx context.Context, in any, refs ...models.Reference) (map[string]any, error) {
	out := map[string]any{}
	read := map[string]readResult{} // by "Type/id": the cache of this call
	local, err := c.localOf(in)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, ref := range refs {
		if ref.Reference == nil || *ref.Reference == "" {
			errs = append(errs, fmt.Errorf("fhir: %s: resolve: reference %d has no reference element (a logical reference names no resource to read)", c.name, i))
			continue
		}
		r := *ref.Reference
		if _, done := out[r]; done {
			continue
		}
		if v, ok, err := local.find(r); ok || err != nil {
			if err != nil {
				errs = append(errs, err)
			} else {
				out[r] = v
			}
			continue
		}
		rel, err := c.relative(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v, ok, err := local.find(rel); ok || err != nil {
			if err != nil {
				errs = append(errs, err)
			} else {
				out[r] = v
			}
			continue
		}
		got, cached := read[rel]
		if !cached {
			if err := ctx.Err(); err != nil {
				return out, errors.Join(append(errs, err)...)
			}
			got.v, got.err = c.get(ctx, rel, nil)
			if got.err == nil {
				got.err = answers(rel, got.v)
			}
			read[rel] = got
		}
		if got.err != nil {
			errs = append(errs, fmt.Errorf("fhir: %s: resolve %s: %w", c.name, rel, got.err))
			continue
		}
		out[r] = got.v
	}
	return out, errors.Join(errs...)
}

type readResult struct {
	v   any
	err error
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
