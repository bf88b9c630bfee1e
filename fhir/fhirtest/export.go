package fhirtest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bulk Data export (IG v2.0.0), served asynchronously like a real server:
// GET [base]/$export, [base]/Patient/$export or [base]/Group/[id]/$export
// with Prefer: respond-async answers 202 with the Content-Location of a
// status URL ([base]/_bulk/[job]); its first polls answer 202 (X-Progress,
// Retry-After: 1; see WithExportPolls), then 200 with the manifest; the
// files ([base]/_bulk/[job]/[Type].ndjson) honour Range requests; DELETE
// on the status URL cancels the export, whose status URL and files then
// answer 404.

// bulkPath is the folder of status URLs and files, relative to the base.
const bulkPath = "_bulk"

// exportState holds the server's exports and export knobs; the zero value
// is ready. Its lock is never held while taking the store's.
type exportState struct {
	mu       sync.Mutex
	polls    int
	pollsSet bool
	noRange  bool
	cut      int64 // > 0: the next file download stops after this many bytes
	next     int
	jobs     map[string]*exportJob
}

// exportJob is one export: its files, cut at kick-off from the store,
// and its manifest. Only pending changes after it is stored.
type exportJob struct {
	at       time.Time
	files    map[string]*exportFile
	manifest []byte
	polls    int // 202 answers in all
	pending  int // 202 answers left
}

type exportFile struct {
	typ   string
	data  []byte // NDJSON
	count int
}

// WithExportPolls makes an export answer its first n polls with 202
// Accepted (X-Progress, Retry-After: 1) before the manifest (default 1;
// 0: the manifest at the first poll).
func WithExportPolls(n int) Option {
	return func(s *Server) { s.bulk.polls, s.bulk.pollsSet = max(n, 0), true }
}

// WithoutExportRanges makes export file downloads ignore Range headers and
// answer 200 with the whole file, like a server without range support.
func WithoutExportRanges() Option { return func(s *Server) { s.bulk.noRange = true } }

// CutNextDownload makes the next export file download stop after n bytes
// of its body and drop the connection (its Content-Length announced the
// whole body), so that a client's resume is exercised.
func (s *Server) CutNextDownload(n int64) {
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	s.bulk.cut = n
}

// serveExport serves the export endpoints; false when rel is none.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, rel string) bool {
	group, isGroup := strings.CutPrefix(rel, "Group/")
	group, isOp := strings.CutSuffix(group, "/$export")
	switch {
	case rel == "$export":
		s.kickOff(w, r, "", "")
	case rel == "Patient/$export":
		s.kickOff(w, r, "Patient", "")
	case isGroup && isOp:
		s.kickOff(w, r, "Group", group)
	case strings.HasPrefix(rel, bulkPath+"/"):
		s.serveJob(w, r, strings.TrimPrefix(rel, bulkPath+"/"))
	default:
		return false
	}
	return true
}

// exportRequest is a checked kick-off.
type exportRequest struct {
	level, group string                  // "", "Patient" or "Group" (with the Group's id)
	types        map[string]bool         // nil: every type
	since        time.Time               // zero: no _since
	filters      map[string][]url.Values // _typeFilter queries by type
}

func (s *Server) kickOff(w http.ResponseWriter, r *http.Request, level, group string) {
	req, err := parseKickOff(r, level, group)
	if err != nil {
		writeError(w, err)
		return
	}
	job, err := s.exportJob(req)
	if err != nil {
		writeError(w, err)
		return
	}
	id := s.bulk.newID()
	if job.manifest, err = s.exportManifest(id, job, s.srv.URL+r.URL.RequestURI()); err != nil {
		writeError(w, err)
		return
	}
	s.bulk.store(id, job)
	w.Header().Set("Content-Location", s.base()+"/"+bulkPath+"/"+id)
	outcome(w, http.StatusAccepted, "informational", "export "+id+" started")
}

func parseKickOff(r *http.Request, level, group string) (*exportRequest, error) {
	switch {
	case r.Method != http.MethodGet:
		return nil, fail(http.StatusMethodNotAllowed, "not-supported", "$export by %s is not supported (use GET)", r.Method)
	case !strings.Contains(r.Header.Get("Prefer"), "respond-async"):
		return nil, fail(http.StatusBadRequest, "invalid", "$export needs Prefer: respond-async")
	case !strings.Contains(r.Header.Get("Accept"), mediaType):
		return nil, fail(http.StatusBadRequest, "invalid", "$export needs Accept: %s", mediaType)
	case level == "Group" && !idPattern.MatchString(group):
		return nil, fail(http.StatusBadRequest, "invalid", "invalid Group id")
	}
	req := &exportRequest{level: level, group: group, filters: map[string][]url.Values{}}
	q := r.URL.Query()
	for name := range q {
		if name != "_outputFormat" && name != "_type" && name != "_since" && name != "_typeFilter" {
			return nil, fail(http.StatusBadRequest, "not-supported", "$export parameter %s is not supported", name)
		}
	}
	switch q.Get("_outputFormat") {
	case "", "application/fhir+ndjson", "application/ndjson", "ndjson":
	default:
		return nil, fail(http.StatusBadRequest, "not-supported", "_outputFormat %q is not supported", q.Get("_outputFormat"))
	}
	if err := req.parseTypes(q["_type"], q["_typeFilter"]); err != nil {
		return nil, err
	}
	if v := q.Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "invalid", "_since %q is not a FHIR instant", v)
		}
		req.since = t
	}
	return req, nil
}

func (req *exportRequest) parseTypes(types, filters []string) error {
	for _, t := range strings.Split(strings.Join(types, ","), ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !typePattern.MatchString(t) {
			return fail(http.StatusBadRequest, "invalid", "_type %q is not a resource type", t)
		}
		if req.types == nil {
			req.types = map[string]bool{}
		}
		req.types[t] = true
	}
	for _, f := range filters {
		typ, query, _ := strings.Cut(f, "?")
		q, err := url.ParseQuery(query)
		if !typePattern.MatchString(typ) || err != nil {
			return fail(http.StatusBadRequest, "invalid", "_typeFilter %q is not [type]?[query]", f)
		}
		req.filters[typ] = append(req.filters[typ], q)
	}
	return nil
}

func (b *exportState) newID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	return strconv.Itoa(b.next)
}

func (b *exportState) store(id string, job *exportJob) {
	b.mu.Lock()
	defer b.mu.Unlock()
	job.polls = 1
	if b.pollsSet {
		job.polls = b.polls
	}
	job.pending = job.polls
	if b.jobs == nil {
		b.jobs = map[string]*exportJob{}
	}
	b.jobs[id] = job
}
