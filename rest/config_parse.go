package rest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigOption adjusts how a configuration file is read.
type ConfigOption func(*configReader)

// WithLookupEnv replaces os.LookupEnv for ${VAR} references, e.g. to fill
// in the URLs of test servers.
func WithLookupEnv(lookup func(name string) (string, bool)) ConfigOption {
	return func(r *configReader) { r.lookupEnv = lookup }
}

// WithReadFile replaces os.ReadFile for file: references and TLS files.
func WithReadFile(read func(path string) ([]byte, error)) ConfigOption {
	return func(r *configReader) { r.readFile = read }
}

// AllowInsecureHTTP accepts http:// URLs (tests and local fakes); the
// registry must then be built with Options.AllowInsecureHTTP as well.
func AllowInsecureHTTP() ConfigOption {
	return func(r *configReader) { r.allowHTTP = true }
}

type configReader struct {
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
	allowHTTP bool
	problems
	broken map[string]bool // entries that did not decode: not checked further
}

// LoadConfig reads and validates the configuration file at path (YAML or
// JSON). A *[ConfigError] lists every problem found.
func LoadConfig(path string, opts ...ConfigOption) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rest: config: %w", err)
	}
	cfg, err := ParseConfig(data, opts...)
	if ce, ok := err.(*ConfigError); ok {
		ce.File = path
	}
	return cfg, err
}

// ParseConfig parses and validates a configuration (YAML, or JSON which is
// valid YAML). A *[ConfigError] lists every problem found.
func ParseConfig(data []byte, opts ...ConfigOption) (*Config, error) {
	r := &configReader{lookupEnv: os.LookupEnv, readFile: os.ReadFile, broken: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	doc, ok := r.parseDocument(data)
	if !ok {
		return nil, r.err("")
	}
	cfg := &Config{}
	if len(doc.Content) > 0 {
		r.decodeTop(doc.Content[0], cfg)
	}
	if r.broken["config"] {
		return nil, r.err("")
	}
	r.check(cfg)
	if err := r.err(""); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseDocument parses data, which must hold at most one YAML document.
func (r *configReader) parseDocument(data []byte) (*yaml.Node, bool) {
	var doc, next yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		r.add("config", "", 0, "not valid YAML or JSON: %s", scrubYAML(err.Error()))
		return nil, false
	}
	if err := dec.Decode(&next); err != io.EOF {
		r.add("config", "", next.Line, "only one YAML document is allowed (another one starts with ---)")
		return nil, false
	}
	return &doc, true
}

// decodeTop decodes the top-level mapping section by section.
func (r *configReader) decodeTop(n *yaml.Node, cfg *Config) {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		r.add("config", "", n.Line, "must be a mapping with security, rest, fhir and store")
		r.broken["config"] = true
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "security":
			cfg.Security = decodeSection[SecurityConfig](r, "security", v)
		case "rest":
			cfg.REST = decodeSection[ConnConfig](r, "rest", v)
		case "fhir":
			cfg.FHIR = decodeSection[FHIRConfig](r, "fhir", v)
		case "store":
			r.decodeEntry("store", v, &cfg.Store)
		default:
			r.add("config", k.Value, k.Line, "unknown section (want security, rest, fhir or store)")
		}
	}
}

// decodeSection decodes a mapping of named entries.
func decodeSection[T any](r *configReader, section string, n *yaml.Node) map[string]T {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.add(section, "", n.Line, "must be a mapping from names to definitions")
		return nil
	}
	out := make(map[string]T, len(n.Content)/2)
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		where := fmt.Sprintf("%s %q", section, k.Value)
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			r.add(section, "", k.Line, "entry names must be non-empty strings")
			continue
		}
		if l, dup := lines[k.Value]; dup {
			r.add(where, "", k.Line, "defined twice (first at line %d)", l)
			continue
		}
		lines[k.Value] = k.Line
		var e T
		r.decodeEntry(where, v, &e)
		out[k.Value] = e
	}
	return out
}

// decodeEntry checks n's keys against out's type, then decodes it. A
// value of the wrong type is reported with its field and line, and the
// rest of the entry is still decoded and checked.
func (r *configReader) decodeEntry(where string, n *yaml.Node, out any) {
	r.checkKeys(where, "", n, reflect.TypeOf(out).Elem())
	err := n.Decode(out)
	if err == nil {
		return
	}
	if _, ok := err.(*yaml.TypeError); ok && r.decodeFields(where, "", n, reflect.ValueOf(out).Elem()) {
		return
	}
	r.broken[where] = true
	if te, ok := err.(*yaml.TypeError); ok {
		for _, msg := range te.Errors {
			r.add(where, "", 0, "%s", scrubYAML(msg))
		}
		return
	}
	r.add(where, "", n.Line, "%s", scrubYAML(err.Error()))
}

// checkKeys reports mapping keys that t has no field for, recursively, so
// that a misspelt key fails instead of being ignored.
func (r *configReader) checkKeys(where, prefix string, n *yaml.Node, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode || t.Implements(unmarshalerType) {
		return
	}
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" {
			continue
		}
		ft, ok := fields[k.Value]
		if !ok {
			r.add(where, prefix+k.Value, k.Line, "unknown field%s", suggest(k.Value, fields))
			continue
		}
		r.checkKeys(where, prefix+k.Value+".", v, ft)
	}
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// yamlFields maps the yaml keys of struct t to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for name, idx := range yamlFieldIndex(t) {
		out[name] = t.FieldByIndex(idx).Type
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for a near miss.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	if len(key) > 64 {
		return ""
	}
	for f := range fields {
		if d := editDistance(key, f); d < bestD || (d == bestD && f < best) {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var yamlValue = regexp.MustCompile("`[^`]*`")

// scrubYAML removes the quoted values that yaml.v3 puts in its messages, in
// case a secret was written where a number was expected.
func scrubYAML(msg string) string {
	return strings.TrimPrefix(yamlValue.ReplaceAllString(msg, "value"), "yaml: ")
}
