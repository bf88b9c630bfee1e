package backends

import (
	"bytes"
	"encoding"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/internal/settings"
	"github.com/tokenwire/tokenwire/internal/tlsconf"
	"github.com/tokenwire/tokenwire/rest"
)

type configReader struct {
	set   *settings.Settings
	users users // of the configuration being checked
	problems
	broken  map[string]bool            // entries that did not decode: not checked further
	walking map[*yaml.Node]bool        // the mappings checkKeys is inside: an alias to one is a cycle
	checked map[walked]bool            // what checkKeys has seen, and whether it found a key twice
	applied map[walked]bool            // the merged mappings decodeFields has applied
	at      map[string]written         // where each entry (and section) is written
	keys    map[*yaml.Node]mappingKeys // the keys of the mappings find searched
	bad     map[place]bool             // the places a problem was reported about
	// meant are the keys that an unknown key was taken for ("did you
	// mean"), and misplaced the keys written in an entry of the wrong
	// section (smart: under rest): while the key meant is not written,
	// what its absence causes is that one problem, not another.
	meant, misplaced map[place]bool
	empty            map[place][]string // the variables set but empty that a field's value used
}

// place is a field of an entry ("" for the entry itself).
type place struct{ where, field string }

// add reports a problem; with no line given, that of the field, else of
// the nearest enclosing key, else of the entry, as decoded.
func (r *configReader) add(where, field string, line int, format string, args ...any) {
	r.bad[place{where, field}] = true
	if r.misspelt(where, field) {
		return // the misspelt key is the one cause, reported already
	}
	if line == 0 {
		line, _ = r.find(where, field)
	}
	reason := fmt.Sprintf(format, args...)
	if vars := r.emptyVars(where, field); len(vars) == 1 {
		reason = "environment variable " + vars[0] + " is set but empty: " + reason
	} else if len(vars) > 1 {
		reason = "environment variables " + strings.Join(vars, ", ") + " are set but empty: " + reason
	}
	r.problems.add(where, field, line, "%s", reason)
}

// written is an entry's key and value in the file.
type written struct{ key, value *yaml.Node }

// entry records where the entry (or section) where is written.
func (r *configReader) entry(where string, key, value *yaml.Node) {
	r.at[where] = written{key, value}
}

// find returns the line of field of where ("retry.max_wait", "command[0]",
// "fields.a.b"), else of the nearest key it is inside, else of the entry
// (0 when unknown), and whether the field itself is written. The file is
// searched only when a problem is reported.
func (r *configReader) find(where, field string) (line int, found bool) {
	w, ok := r.at[where]
	if !ok {
		return 0, false
	}
	line, n := w.key.Line, w.value
	field, _, _ = strings.Cut(field, "[") // command[0]: the line of command
	for field != "" {
		k, v := r.lookup(n, field) // a whole dotted name first (fields: {a.b: x})
		rest := ""
		if k == nil {
			var head string
			head, rest, _ = strings.Cut(field, ".")
			if k, v = r.lookup(n, head); k == nil {
				return line, false
			}
		}
		line, n, field = k.Line, v, rest
	}
	return line, true
}

// misspelt reports whether field of where is not written but an unknown
// key was taken for it ("did you mean").
func (r *configReader) misspelt(where, field string) bool {
	if !r.meant[place{where, field}] {
		return false
	}
	_, found := r.find(where, field)
	return !found
}

// lookup finds key in mapping n: its own, else through the mappings it
// merges (<<), as the value YAML gives it.
func (r *configReader) lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	ks := r.keysOf(n)
	if i, ok := ks.own[key]; ok {
		return n.Content[i], n.Content[i+1]
	}
	for _, i := range ks.merges {
		for _, m := range merged(n.Content[i+1]) {
			if m.Kind != yaml.MappingNode || m == n {
				continue
			}
			if i, ok := r.keysOf(m).own[key]; ok {
				return m.Content[i], m.Content[i+1]
			}
		}
	}
	return nil, nil
}

// mappingKeys indexes a mapping's own keys (the last of a key written
// twice) and its merges (<<).
type mappingKeys struct {
	own    map[string]int
	merges []int
}

// keysOf indexes mapping n, once: many problems in one large mapping each
// find their key at once.
func (r *configReader) keysOf(n *yaml.Node) mappingKeys {
	if m, ok := r.keys[n]; ok {
		return m
	}
	m := mappingKeys{own: make(map[string]int, len(n.Content)/2)}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "<<" {
			m.merges = append(m.merges, i)
			continue
		}
		m.own[n.Content[i].Value] = i
	}
	if r.keys == nil {
		r.keys = map[*yaml.Node]mappingKeys{}
	}
	r.keys[n] = m
	return m
}

// hasProblem reports whether a problem was reported about field of where.
func (r *configReader) hasProblem(where, field string) bool { return r.bad[place{where, field}] }

// walked is a mapping checked (or applied) at a place: anchors merged into
// each other twice would otherwise be walked an exponential number of
// times.
type walked struct {
	where, prefix string
	n             *yaml.Node
	t             reflect.Type
}

// Load reads and validates the configuration file at path (YAML or JSON),
// through the same bounded reader as every file it names. A *[ConfigError]
// lists every problem found. The options are remembered for [Open].
func Load(path string, opts ...rest.Option) (*Config, error) {
	data, err := settings.New(opts).Read(path)
	if err != nil {
		return nil, fmt.Errorf("backends: config %s: %w", path, tlsconf.PathCause(err))
	}
	return parseFile(path, data, opts)
}

// parseFile parses data, read from the file at path.
func parseFile(path string, data []byte, opts []rest.Option) (*Config, error) {
	cfg, err := Parse(data, opts...)
	if ce, ok := err.(*ConfigError); ok {
		ce.File = path
	}
	return cfg, err
}

// Parse parses and validates a configuration (YAML, or JSON which is valid
// YAML). A *[ConfigError] lists every problem found. Validation builds
// nothing that runs: no token source, no connection. The options are
// remembered for [Open].
func Parse(data []byte, opts ...rest.Option) (*Config, error) {
	r := newReader(settings.New(opts))
	doc, ok := r.parseDocument(data)
	if !ok {
		return nil, r.err("")
	}
	cfg := &Config{}
	var security map[string]securityEntry
	if len(doc.Content) > 0 {
		security = r.decodeTop(doc.Content[0], cfg)
	}
	if r.broken["config"] {
		return nil, r.err("")
	}
	r.resolveAll(cfg, security)
	cfg.Security = r.assembleAll(security)
	r.check(cfg)
	if err := r.err(""); err != nil {
		return nil, err
	}
	cfg.opts = append([]rest.Option(nil), opts...)
	return cfg, nil
}

func newReader(set *settings.Settings) *configReader {
	return &configReader{set: set, broken: map[string]bool{}, at: map[string]written{}, bad: map[place]bool{},
		meant: map[place]bool{}, misplaced: map[place]bool{}, empty: map[place][]string{}}
}

// parseDocument parses data, which must hold at most one YAML document.
func (r *configReader) parseDocument(data []byte) (*yaml.Node, bool) {
	var doc, next yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		line, msg := yamlLine(scrubYAML(err.Error()))
		if l, ref := unquotedFlowRef(data, line); ref != "" {
			line, msg = l, fmt.Sprintf("%s (%s inside { } or [ ] must be quoted: %q)", msg, ref, ref)
		}
		r.add("config", "", line, "not valid YAML or JSON: %s", msg)
		return nil, false
	}
	if err := dec.Decode(&next); err != io.EOF {
		r.add("config", "", next.Line, "only one YAML document is allowed (another one starts with ---)")
		return nil, false
	}
	return &doc, true
}

// decodeTop decodes the top-level mapping section by section; the security
// definitions are returned as the file writes them, to be assembled.
func (r *configReader) decodeTop(n *yaml.Node, cfg *Config) (security map[string]securityEntry) {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		r.add("config", "", n.Line, "must be a mapping with security, rest, fhir and store")
		r.broken["config"] = true
		return nil
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if l, dup := seen[k.Value]; dup {
			r.add("config", k.Value, k.Line, "section defined twice (first at line %d)", l)
			r.broken["config"] = true
			continue
		}
		seen[k.Value] = k.Line
		r.entry(k.Value, k, v)
		switch k.Value {
		case "security":
			security = decodeSection[securityEntry](r, "security", v)
		case "rest":
			cfg.REST = decodeSection[ConnConfig](r, "rest", v)
		case "fhir":
			cfg.FHIR = decodeSection[FHIRConfig](r, "fhir", v)
		case "store":
			r.decodeStore(v, &cfg.Store)
		default:
			r.add("config", k.Value, k.Line, "unknown section (want security, rest, fhir or store)")
		}
	}
	return security
}

// assembleAll makes the security definitions of their entries.
func (r *configReader) assembleAll(entries map[string]securityEntry) map[string]SecurityConfig {
	if entries == nil {
		return nil
	}
	out := make(map[string]SecurityConfig, len(entries))
	for name, e := range entries {
		where := fmt.Sprintf("security %q", name)
		if r.broken[where] {
			out[name] = e.SecurityConfig
			continue
		}
		out[name] = r.assemble(where, name, e)
	}
	return out
}

// decodeStore decodes the store section: memory, or the section of a
// store driver given with WithStoreDriver.
func (r *configReader) decodeStore(n *yaml.Node, sc *StoreConfig) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.add("store", "", n.Line, "must be a mapping with memory or a store such as redis")
		r.broken["store"] = true
		return
	}
	r.checkDuplicates("store", "", n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "memory" {
			sc.Memory = &MemoryStoreConfig{}
			r.decodeEntry("store", v, sc.Memory, "memory.")
			continue
		}
		d, ok := r.set.Sections[k.Value]
		if !ok {
			r.add("store", k.Value, k.Line, "%s", r.unknownStore(k.Value))
			r.broken["store"] = true
			continue
		}
		if sc.Shared != nil {
			r.add("store", k.Value, k.Line, "set one shared store, not both %s and %s", sc.SharedName, k.Value)
			continue
		}
		sc.Shared, sc.SharedName = d(), k.Value
		r.decodeEntry("store", v, sc.Shared, k.Value+".")
	}
}

// unknownStore explains a store key that no driver reads.
func (r *configReader) unknownStore(name string) string {
	if name == "redis" {
		return `the Redis store is not linked into this program: import "github.com/tokenwire/tokenwire/cache/redis" and pass backends.WithStoreSection[redis.Config]("redis") when loading`
	}
	known := map[string]reflect.Type{"memory": nil}
	for n := range r.set.Sections {
		known[n] = nil
	}
	names := slices.Sorted(maps.Keys(known))
	return fmt.Sprintf("unknown store%s (want %s, or a store given with backends.WithStoreSection)", suggest(name, known), strings.Join(names, ", "))
}

// decodeSection decodes a mapping of named entries.
func decodeSection[T any](r *configReader, section string, n *yaml.Node) map[string]T {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.add(section, "", n.Line, "must be a mapping from names to definitions")
		r.broken[section] = true // what it holds is unknown: not named again
		return nil
	}
	out := make(map[string]T, len(n.Content)/2)
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		where := fmt.Sprintf("%s %q", section, k.Value)
		if k.Value == "<<" {
			r.add(section, "", k.Line, "a merge (<<) of whole entries is not supported here; merge inside an entry")
			continue
		}
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			r.add(section, "", k.Line, "entry names must be non-empty strings")
			continue
		}
		if l, dup := lines[k.Value]; dup {
			r.add(where, "", k.Line, "defined twice (first at line %d)", l)
			continue
		}
		lines[k.Value] = k.Line
		r.entry(where, k, v)
		var e T
		r.decodeEntry(where, v, &e, "")
		out[k.Value] = e
	}
	return out
}

// decodeEntry checks n's keys against out's type (a pointer to a struct),
// then decodes it key by key (decodeFields): a value of the wrong type is
// reported with its field and line, and the rest of the entry is still
// decoded and checked. prefix starts the names of its fields in problems
// ("memory.").
func (r *configReader) decodeEntry(where string, n *yaml.Node, out any, prefix string) {
	if r.checkKeys(where, prefix, n, reflect.TypeOf(out).Elem()) {
		r.broken[where] = true // a key defined twice: which value is meant is unknown
		return
	}
	if r.decodeFields(where, prefix, deref(n), reflect.ValueOf(out).Elem()) {
		return
	}
	err := n.Decode(out) // not a mapping: yaml says what it is
	if err == nil {
		return
	}
	r.broken[where] = true
	if _, ok := err.(*yaml.TypeError); ok { // a scalar or a list: yaml names the Go type and the line
		r.add(where, strings.TrimSuffix(prefix, "."), n.Line, "want a mapping")
		return
	}
	r.add(where, "", n.Line, "%s", scrubYAML(err.Error()))
}

// checkKeys reports mapping keys that t has no field for, recursively and
// through YAML merges (<<), so that a misspelt key fails instead of being
// ignored, and keys defined twice. It returns whether a key was defined
// twice.
func (r *configReader) checkKeys(where, prefix string, n *yaml.Node, t reflect.Type) (dup bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == supplierType {
		t = reflect.TypeFor[supplierSection]()
	}
	n = deref(n)
	if t.Kind() == reflect.Map && n.Kind == yaml.MappingNode {
		return r.checkDuplicates(where, prefix, n) // headers: {Accept: a, Accept: b}
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode || !nestedStruct(t) {
		return false
	}
	if r.walking[n] {
		r.add(where, strings.TrimSuffix(prefix, "."), n.Line, "an alias refers to a mapping that contains it")
		return true
	}
	w := walked{where, prefix, n, t}
	if d, ok := r.checked[w]; ok {
		return d
	}
	if r.walking == nil {
		r.walking, r.checked = map[*yaml.Node]bool{}, map[walked]bool{}
	}
	r.walking[n] = true
	defer func() { delete(r.walking, n); r.checked[w] = dup }()
	dup = r.checkDuplicates(where, prefix, n)
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" {
			for _, m := range merged(v) {
				dup = r.checkKeys(where, prefix, m, t) || dup
			}
			continue
		}
		ft, ok := fields[k.Value]
		if !ok {
			r.unknownKey(where, prefix, k, t)
			continue
		}
		dup = r.checkKeys(where, prefix+k.Value+".", v, ft) || dup
	}
	return dup
}

// checkDuplicates reports the keys of mapping n defined twice.
func (r *configReader) checkDuplicates(where, prefix string, n *yaml.Node) bool {
	lines := map[string]int{}
	dup := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value == "<<" {
			continue
		}
		if l, ok := lines[k.Value]; ok {
			r.add(where, prefix+k.Value, k.Line, "defined twice (first at line %d)", l)
			dup = true
			continue
		}
		lines[k.Value] = k.Line
	}
	return dup
}

// merged returns the mappings a merge key (<<) brings in: one alias, or a
// sequence of them.
func merged(v *yaml.Node) []*yaml.Node {
	v = deref(v)
	if v.Kind == yaml.SequenceNode {
		out := make([]*yaml.Node, 0, len(v.Content))
		for _, e := range v.Content {
			out = append(out, deref(e))
		}
		return out
	}
	return []*yaml.Node{v}
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

var (
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// fieldTypes caches yamlFields by type: the map is never modified.
var fieldTypes sync.Map

// yamlFields maps the yaml keys of struct t to their field types. The map
// returned is shared: not to be modified.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldTypes.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for name, idx := range yamlFieldIndex(t) {
		out[name] = t.FieldByIndex(idx).Type
	}
	fieldTypes.Store(t, out)
	return out
}
