package fhir

import (
	"net/url"
	"strconv"
	"strings"
)

// Query is a list of FHIR search parameters, built by chained calls:
//
//	q := fhir.Params().Add("family:exact", "Chalmers").Add("birthdate", "ge1970").Count(50)
//
// Each call adds one parameter (parameters are ANDed); the values given to
// one call are ORed (joined by commas). A modifier is written after the
// name, as in the URL: Add("family:exact", …), Add("code:text", …). A prefix of a number, date or
// quantity parameter (eq, ne, gt, lt, ge, le, sa, eb, ap) is written before
// the value: Add("date", "ge2020-01-01"). Values are escaped as the FHIR
// search syntax requires (`\,` `\|` `\$` `\\`), then URL-encoded. A nil
// *Query is an empty query.
type Query struct {
	vals url.Values
}

// Params returns an empty query.
func Params() *Query { return &Query{vals: url.Values{}} }

var escaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `|`, `\|`, `$`, `\$`)

// escape escapes one search value (commas, pipes, dollars, backslashes).
func escape(v string) string { return escaper.Replace(v) }

func (q *Query) add(name, value string) *Query {
	if q.vals == nil {
		q.vals = url.Values{}
	}
	q.vals.Add(name, value)
	return q
}

func joinEscaped(values []string) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = escape(v)
	}
	return strings.Join(out, ",")
}

// Add adds name=v1,v2,… with every value escaped.
func (q *Query) Add(name string, values ...string) *Query {
	return q.add(name, joinEscaped(values))
}

// Token adds name=system|code. An empty system ("|code") matches codes
// without a system; use Add(name, code) to match a code in any system, and
// an empty code ("system|") for any code of the system.
func (q *Query) Token(name, system, code string) *Query {
	return q.add(name, escape(system)+"|"+escape(code))
}

// Count sets _count, the page size. Other parameters (_sort, _id,
// _include, _elements, _summary, _total …) are added with [Query.Add]:
// Add("_sort", "-date", "_id") sorts by date descending, then by id.
func (q *Query) Count(n int) *Query { return q.set("_count", strconv.Itoa(n)) }

func (q *Query) set(name, value string) *Query {
	if q.vals == nil {
		q.vals = url.Values{}
	}
	q.vals.Set(name, value)
	return q
}

// Values returns a copy of the parameters, as for the query of a
// conditional reference: "Patient?" + q.Values().Encode().
func (q *Query) Values() url.Values {
	out := url.Values{}
	if q == nil {
		return out
	}
	for k, vs := range q.vals {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
