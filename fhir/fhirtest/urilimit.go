package fhirtest

import (
	"net/http"
	"net/url"
	"strconv"
)

// maxURI bounds the request target (path and query) the server accepts:
// 8 KiB, as Apache (8190 bytes), nginx and Tomcat do by default. A longer
// one is answered 414 URI Too Long in plain text, as a server or proxy in
// front would answer it, before the FHIR server sees it (not counted by
// Requests or Hits).
const maxURI = 8 << 10

// uriTooLong answers 414 when the request target is over maxURI.
func uriTooLong(w http.ResponseWriter, r *http.Request) bool {
	if len(r.RequestURI) <= maxURI {
		return false
	}
	http.Error(w, "414 URI Too Long", http.StatusRequestURITooLong)
	return true
}

// maxSaved bounds the searches kept for their paging links.
const maxSaved = 1000

// shorten returns the query to put in the paging links of a search: q
// itself, or, when the links would be over maxURI (a search sent by POST
// _search), a _getpages key under which q is kept, as servers keep a
// search behind a paging id. The store lock is held.
func (s *Server) shorten(path string, q url.Values) url.Values {
	if len(s.base())+len(path)+len(q.Encode())+64 <= maxURI {
		return q
	}
	if s.saved == nil {
		s.saved = map[string]url.Values{}
	}
	s.savedSeq++
	key := strconv.Itoa(s.savedSeq)
	s.saved[key] = q
	delete(s.saved, strconv.Itoa(s.savedSeq-maxSaved))
	return url.Values{"_getpages": {key}}
}

// restore returns the query a _getpages key stands for, with the
// request's _offset and _count. The store lock is held.
func (s *Server) restore(q url.Values) (url.Values, error) {
	key := q.Get("_getpages")
	if key == "" {
		return q, nil
	}
	saved, ok := s.saved[key]
	if !ok {
		return nil, fail(http.StatusGone, "not-found", "the search of _getpages=%s is no longer kept", key)
	}
	out := url.Values{}
	for k, v := range saved {
		out[k] = v
	}
	for _, k := range []string{"_offset", "_count"} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out, nil
}
