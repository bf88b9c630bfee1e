package fhir

import (
	"bytes"
	"encoding/json"
	"slices"
)

// maxIssues bounds the issues an *Error keeps of an OperationOutcome.
const maxIssues = 20

// outcomeIssue is the wire shape of an OperationOutcome issue; codes are
// kept as strings so that an unknown code never hides the error.
type outcomeIssue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics"`
	Expression  []string `json:"expression"`
	Location    []string `json:"location"`
	Details     *struct {
		Text string `json:"text"`
	} `json:"details"`
}

// parseIssues reads the issues of an OperationOutcome body, or nil: the
// first limit of them (all when limit < 0) and how many more it holds,
// which are counted, never kept. The body is read as a stream, so an
// outcome cut short (a bounded read) still gives the issues before the cut.
func parseIssues(body []byte, limit int) (issues []Issue, more int) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, 0
	}
	isOutcome := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			break
		}
		switch key {
		case "resourceType":
			var rt string
			err = dec.Decode(&rt)
			isOutcome = rt == "OperationOutcome"
		case "issue":
			var ok bool
			if issues, more, ok = issueArray(dec, limit); !ok {
				return nil, 0
			}
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			break
		}
	}
	if !isOutcome {
		return nil, 0
	}
	if issues == nil {
		issues = []Issue{}
	}
	return issues, more
}

// issueArray reads the value of "issue": null, or an array, whose end it
// consumes; ok is false for anything else.
func issueArray(dec *json.Decoder, limit int) (issues []Issue, more int, ok bool) {
	t, err := dec.Token()
	if err != nil || t == nil {
		return nil, 0, err == nil
	}
	if t != json.Delim('[') {
		return nil, 0, false
	}
	issues, more = decodeIssues(dec, limit)
	_, _ = dec.Token() // the array's end; a body cut short ends the loop above
	return issues, more, true
}

// allIssues is every issue of an OperationOutcome body, or nil.
func allIssues(body []byte) []Issue {
	issues, _ := parseIssues(body, -1)
	return issues
}

// decodeIssues reads the elements of an issue array, keeping the first
// limit (all when limit < 0) and counting the others.
func decodeIssues(dec *json.Decoder, limit int) (issues []Issue, more int) {
	for dec.More() {
		if limit >= 0 && len(issues) >= limit {
			var skip struct{}
			if dec.Decode(&skip) != nil {
				return issues, more
			}
			more++
			continue
		}
		var i outcomeIssue
		if dec.Decode(&i) != nil {
			return issues, more
		}
		is := Issue{Severity: i.Severity, Code: i.Code, Diagnostics: i.Diagnostics, Expression: i.Expression, Location: i.Location}
		if is.Diagnostics == "" && i.Details != nil {
			is.Diagnostics = i.Details.Text
		}
		if len(is.Expression) == 0 {
			is.Expression = slices.Clone(i.Location)
		}
		issues = append(issues, is)
	}
	return issues, more
}
