package fhirtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

const mediaType = "application/fhir+json"

// maxBody bounds request bodies.
const maxBody = 16 << 20

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errors.New("request body too large")
	}
	return b, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			outcome(w, http.StatusInternalServerError, "exception", err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// outcome answers with an OperationOutcome of one error issue.
func outcome(w http.ResponseWriter, status int, code, diagnostics string) {
	severity := "error"
	if status < 400 {
		severity = "information"
	}
	writeJSON(w, status, outcomeDoc(severity, code, diagnostics))
}

func outcomeDoc(severity, code, diagnostics string) map[string]any {
	return map[string]any{
		"resourceType": "OperationOutcome",
		"issue": []any{map[string]any{
			"severity": severity, "code": code, "diagnostics": diagnostics,
		}},
	}
}

// httpError is a failure with its status and issue code, or with the
// issues of a resource refused on a write.
type httpError struct {
	status int
	code   string
	msg    string
	issues []any
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, code, format string, args ...any) error {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he) && he.issues != nil:
		writeJSON(w, he.status, map[string]any{"resourceType": "OperationOutcome", "issue": he.issues})
		return
	case he != nil:
		outcome(w, he.status, he.code, he.msg)
		return
	}
	outcome(w, http.StatusInternalServerError, "exception", err.Error())
}
