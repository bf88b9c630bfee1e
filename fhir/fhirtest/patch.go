package fhirtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	From  string          `json:"from"`
	Value json.RawMessage `json:"value"`
}

// applyPatch applies a JSON Patch (RFC 6902: add, remove, replace, test,
// move, copy) to doc.
func applyPatch(doc any, body []byte) (any, error) {
	var ops []patchOp
	if err := json.Unmarshal(body, &ops); err != nil {
		return nil, fail(http.StatusBadRequest, "structure", "not a JSON Patch: %v", err)
	}
	for i, op := range ops {
		var err error
		if doc, err = applyOp(doc, op); err != nil {
			return nil, fail(http.StatusBadRequest, "invalid", "patch operation %d (%s %s): %v", i, op.Op, op.Path, err)
		}
	}
	return doc, nil
}

func applyOp(doc any, op patchOp) (any, error) {
	var val any
	if op.Op == "add" || op.Op == "replace" || op.Op == "test" {
		if len(op.Value) == 0 {
			return nil, errf("missing value")
		}
		if err := json.Unmarshal(op.Value, &val); err != nil {
			return nil, err
		}
	}
	switch op.Op {
	case "add":
		return edit(doc, op.Path, func(parent any, key string) (any, error) { return insert(parent, key, val) })
	case "remove":
		return edit(doc, op.Path, func(parent any, key string) (any, error) { return del(parent, key) })
	case "replace":
		if _, err := get(doc, op.Path); err != nil {
			return nil, err
		}
		doc, _ = edit(doc, op.Path, func(parent any, key string) (any, error) { return del(parent, key) })
		return edit(doc, op.Path, func(parent any, key string) (any, error) { return insert(parent, key, val) })
	case "test":
		got, err := get(doc, op.Path)
		if err != nil || !reflect.DeepEqual(got, val) {
			return nil, errf("test failed")
		}
		return doc, nil
	case "move", "copy":
		v, err := get(doc, op.From)
		if err != nil {
			return nil, err
		}
		if op.Op == "move" {
			if doc, err = edit(doc, op.From, func(p any, k string) (any, error) { return del(p, k) }); err != nil {
				return nil, err
			}
		}
		return edit(doc, op.Path, func(parent any, key string) (any, error) { return insert(parent, key, v) })
	}
	return nil, errf("unknown op %q", op.Op)
}

func tokens(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	if !strings.HasPrefix(path, "/") {
		return nil, errf("path %q is not a JSON pointer", path)
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func get(doc any, path string) (any, error) {
	toks, err := tokens(path)
	if err != nil {
		return nil, err
	}
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, errf("no member %q", t)
			}
			cur = v
		case []any:
			i, err := index(t, len(c))
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, errf("cannot descend into %q", t)
		}
	}
	return cur, nil
}

// edit replaces the parent container of path with fn(parent, lastKey).
func edit(doc any, path string, fn func(parent any, key string) (any, error)) (any, error) {
	toks, err := tokens(path)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errf("cannot edit the whole document")
	}
	return editAt(doc, toks, fn)
}

func editAt(cur any, toks []string, fn func(any, string) (any, error)) (any, error) {
	if len(toks) == 1 {
		return fn(cur, toks[0])
	}
	switch c := cur.(type) {
	case map[string]any:
		child, ok := c[toks[0]]
		if !ok {
			return nil, errf("no member %q", toks[0])
		}
		nc, err := editAt(child, toks[1:], fn)
		if err != nil {
			return nil, err
		}
		c[toks[0]] = nc
		return c, nil
	case []any:
		i, err := index(toks[0], len(c))
		if err != nil {
			return nil, err
		}
		nc, err := editAt(c[i], toks[1:], fn)
		if err != nil {
			return nil, err
		}
		c[i] = nc
		return c, nil
	}
	return nil, errf("cannot descend into %q", toks[0])
}

func insert(parent any, key string, val any) (any, error) {
	switch p := parent.(type) {
	case map[string]any:
		p[key] = val
		return p, nil
	case []any:
		if key == "-" {
			return append(p, val), nil
		}
		i, err := index(key, len(p)+1)
		if err != nil {
			return nil, err
		}
		p = append(p, nil)
		copy(p[i+1:], p[i:])
		p[i] = val
		return p, nil
	}
	return nil, errf("cannot add %q to a scalar", key)
}

func del(parent any, key string) (any, error) {
	switch p := parent.(type) {
	case map[string]any:
		if _, ok := p[key]; !ok {
			return nil, errf("no member %q", key)
		}
		delete(p, key)
		return p, nil
	case []any:
		i, err := index(key, len(p))
		if err != nil {
			return nil, err
		}
		return append(p[:i], p[i+1:]...), nil
	}
	return nil, errf("cannot remove %q from a scalar", key)
}

func index(t string, n int) (int, error) {
	i, err := strconv.Atoi(t)
	if err != nil || i < 0 || i >= n {
		return 0, errf("bad array index %q", t)
	}
	return i, nil
}

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }
