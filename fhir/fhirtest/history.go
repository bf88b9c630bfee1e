package fhirtest

import (
	"net/http"
	"net/url"
	"time"
)

// historyWindow reads _since (the versions made at or after an instant)
// and _at (the versions current at some time within a date, dateTime or
// instant): keep says whether version i of rec is in the history asked
// for.
func historyWindow(q url.Values) (keep func(rec *record, i int) bool, err error) {
	var since, atStart, atEnd time.Time
	if v := q.Get("_since"); v != "" {
		s, _, ok := dateRange(v)
		if !ok {
			return nil, fail(http.StatusBadRequest, "invalid", "_since must be an instant, not %q", v)
		}
		since = s
	}
	if v := q.Get("_at"); v != "" {
		s, e, ok := dateRange(v)
		if !ok {
			return nil, fail(http.StatusBadRequest, "invalid", "_at must be a date, dateTime or instant, not %q", v)
		}
		atStart, atEnd = s, e
	}
	return func(rec *record, i int) bool {
		v := &rec.versions[i]
		if !since.IsZero() && v.at.Before(since) {
			return false
		}
		if atStart.IsZero() {
			return true
		}
		// current from v.at until the next version was made
		ends := i+1 == len(rec.versions) || rec.versions[i+1].at.After(atStart)
		return v.at.Before(atEnd) && ends
	}, nil
}
