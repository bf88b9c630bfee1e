package fhir

import (
	"github.com/tokenwire/tokenwire/internal/fhirjson"
)

// UnknownCode is a code outside its value set that a lenient decode went
// past (see [Lenient]). Servers that do not check
// bindings store and send such codes; the models' enums cannot hold them.
type UnknownCode struct {
	ResourceType string // e.g. "Patient"
	Path         string // e.g. "name[0].use"
	Code         string // the code as sent; may be patient data
}

// Lenient makes the connection decode codes outside their value set
// instead of failing on them: an optional code (a pointer field) is left
// nil, a required one gets the value -1, whose Code() is "<unknown>" and
// which no server accepts back, so a resource read leniently is never
// written back with a wrong code. report, when not nil, is told each such
// code. Without Lenient such a resource fails with a *[DecodeError] naming
// the path: [Search] ends with it, [SearchPages] lists it in the page's
// Errors and goes on.
func Lenient(report func(UnknownCode)) Option {
	return func(c *Conn) { c.dec.lenient, c.dec.report = true, report }
}

// decoding is how a connection decodes: strict or lenient, and for pages
// with a bound on entries and without copying the body it owns.
type decoding struct {
	lenient    bool
	report     func(UnknownCode)
	maxArray   int
	owned      bool
	allocExtra int64 // more room, for pages of up to maxArray entries
}

// allocFactor bounds what a decode may allocate: this many times the
// size of its input, plus allocSlack. Real resources take 3-10 times
// their JSON; {"extension":[{},{},…]} would take 150 times.
const (
	allocFactor = 16
	allocSlack  = 1 << 20
)

func (dc decoding) options(rt string, size int) fhirjson.Options {
	o := fhirjson.Options{MaxArray: dc.maxArray, Owned: dc.owned, MaxAlloc: allocFactor*int64(size) + allocSlack + dc.allocExtra}
	if dc.lenient {
		report := dc.report
		o.UnknownCode = func(path, code string) {
			if report != nil {
				report(UnknownCode{ResourceType: rt, Path: path, Code: code})
			}
		}
	}
	return o
}

// owned is the connection's decoding of a response body read for this one
// decode: the result points into the body instead of copying it.
func (c *Conn) owned() decoding {
	dc := c.dec
	dc.owned = true
	return dc
}
