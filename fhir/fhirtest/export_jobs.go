package fhirtest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// serveJob serves an export's status URL (GET polls, DELETE cancels) and
// its files; rest is "[job]" or "[job]/[file]".
func (s *Server) serveJob(w http.ResponseWriter, r *http.Request, rest string) {
	id, file, _ := strings.Cut(rest, "/")
	switch {
	case file == "" && r.Method == http.MethodGet:
		s.pollExport(w, id)
	case file == "" && r.Method == http.MethodDelete:
		s.cancelExport(w, id)
	case file != "" && r.Method == http.MethodGet:
		s.downloadExport(w, r, id, file)
	default:
		outcome(w, http.StatusMethodNotAllowed, "not-supported", r.Method+" is not supported here")
	}
}

// pollExport answers 202 while the job has polls pending, then the
// manifest.
func (s *Server) pollExport(w http.ResponseWriter, id string) {
	s.bulk.mu.Lock()
	job := s.bulk.jobs[id]
	pending, polls := 0, 0
	if job != nil {
		pending, polls = job.pending, job.polls
		job.pending = max(job.pending-1, 0)
	}
	s.bulk.mu.Unlock()
	switch {
	case job == nil:
		outcome(w, http.StatusNotFound, "not-found", "export "+id+" is not known (cancelled?)")
	case pending > 0:
		w.Header().Set("X-Progress", fmt.Sprintf("%d%% done", 100*(polls-pending)/(polls+1)))
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusAccepted)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(job.manifest)))
		_, _ = w.Write(job.manifest)
	}
}

func (s *Server) cancelExport(w http.ResponseWriter, id string) {
	s.bulk.mu.Lock()
	_, ok := s.bulk.jobs[id]
	delete(s.bulk.jobs, id)
	s.bulk.mu.Unlock()
	if !ok {
		outcome(w, http.StatusNotFound, "not-found", "export "+id+" is not known")
		return
	}
	outcome(w, http.StatusAccepted, "informational", "export "+id+" cancelled")
}

// downloadExport serves a file, with Range support unless
// WithoutExportRanges, cut short once after CutNextDownload.
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request, id, name string) {
	s.bulk.mu.Lock()
	job, noRange, cut := s.bulk.jobs[id], s.bulk.noRange, s.bulk.cut
	var f *exportFile
	if job != nil {
		f = job.files[name]
	}
	if f != nil {
		s.bulk.cut = 0
	}
	s.bulk.mu.Unlock()
	if f == nil {
		outcome(w, http.StatusNotFound, "not-found", "export file "+id+"/"+name+" is not known")
		return
	}
	w.Header().Set("Content-Type", "application/fhir+ndjson")
	out := w
	if cut > 0 {
		out = &cutWriter{ResponseWriter: w, left: cut}
	}
	if noRange {
		w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
		out.WriteHeader(http.StatusOK)
		_, _ = out.Write(f.data)
		return
	}
	http.ServeContent(out, r, "", job.at, bytes.NewReader(f.data))
}

// cutWriter passes on the first left bytes of a body and refuses the rest:
// the handler ends short of its Content-Length, and net/http closes the
// connection, which the client sees as a body cut short.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

var errCut = errors.New("fhirtest: download cut (CutNextDownload)")

func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= c.left {
		c.left -= int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	n, err := c.ResponseWriter.Write(p[:c.left])
	c.left = 0
	if err == nil {
		err = errCut
	}
	return n, err
}
