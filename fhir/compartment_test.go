package fhir_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// put stores resources with the ids they carry (update as create).
func put[T any](t *testing.T, conn *fhir.Conn, res ...*T) {
	t.Helper()
	for _, r := range res {
		_, err := fhir.Update(ctx(t), conn, r)
		require.NoError(t, err)
	}
}

func observation(id, subject string, code string) *models.Observation {
	return &models.Observation{Id: &id, Status: models.ObservationStatusFinal, Subject: &models.Reference{Reference: &subject},
		Code: models.CodeableConcept{Coding: []models.Coding{{System: ptr("http://loinc.org"), Code: &code}}}}
}

func obsIDs(t *testing.T, seq func(func(*models.Observation, error) bool)) []string {
	t.Helper()
	var ids []string
	for o, err := range seq {
		require.NoError(t, err)
		ids = append(ids, *o.Id)
	}
	slices.Sort(ids)
	return ids
}

// patientWorld stores two patients and their observations: o1 and o2 of
// p1, o3 of p2 performed by p1 (in both compartments), o4 of p2.
func patientWorld(t *testing.T, conn *fhir.Conn) (p1, p2 string, obs []string) {
	p1, p2 = testID(t, "p1"), testID(t, "p2")
	put(t, conn, &models.Patient{Id: &p1}, &models.Patient{Id: &p2})
	for i := range 4 {
		obs = append(obs, testID(t, "o"+string(rune('1'+i))))
	}
	o3 := observation(obs[2], "Patient/"+p2, "8867-4")
	o3.Performer = []models.Reference{*ref("Patient", p1)}
	put(t, conn, observation(obs[0], "Patient/"+p1, "29463-7"), observation(obs[1], "Patient/"+p1, "8867-4"),
		o3, observation(obs[3], "Patient/"+p2, "29463-7"))
	return p1, p2, obs
}

func TestCompartmentSearch(t *testing.T) {
	conn, rec, base := serverConn(t)
	p1, p2, obs := patientWorld(t, conn)

	tests := []struct {
		name    string
		patient string
		q       *fhir.Query
		want    []string
	}{
		{"subject or performer", p1, nil, []string{obs[0], obs[1], obs[2]}},
		{"with a parameter", p1, fhir.Params().Token("code", "http://loinc.org", "8867-4"), []string{obs[1], obs[2]}},
		{"other patient", p2, nil, []string{obs[2], obs[3]}},
		{"long query by POST", p1, longQuery(fhir.Params().Add("code", "29463-7")), []string{obs[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := obsIDs(t, fhir.Search[models.Observation](ctx(t), conn, tt.q, fhir.Compartment("Patient", tt.patient)))
			want := slices.Clone(tt.want)
			slices.Sort(want)
			assert.Equal(t, want, got)
		})
	}
	sent := rec.requests(base)
	assert.Contains(t, sent, "GET Patient/"+p1+"/Observation")
	assert.Contains(t, sent, "POST Patient/"+p1+"/Observation/_search", "the long one by POST")
}

func TestCompartmentSearchPages(t *testing.T) {
	conn, _, _ := serverConn(t)
	p := testID(t, "p")
	put(t, conn, &models.Patient{Id: &p})
	var want []string
	for i := range 7 {
		id := testID(t, "o"+string(rune('a'+i)))
		want = append(want, id)
		put(t, conn, observation(id, "Patient/"+p, "8867-4"))
	}
	slices.Sort(want)
	for name, q := range map[string]*fhir.Query{"GET": fhir.Params().Count(3), "POST": longQuery(fhir.Params().Count(3))} {
		t.Run(name, func(t *testing.T) {
			pages := 0
			for b, err := range conn.Pages(ctx(t), "Observation", q, fhir.Compartment("Patient", p)) {
				require.NoError(t, err)
				pages++
				assert.LessOrEqual(t, len(b.Entry), 3)
			}
			assert.Equal(t, 3, pages, "next links of a long search stay short")
			assert.Equal(t, want, obsIDs(t, fhir.Search[models.Observation](ctx(t), conn, q, fhir.Compartment("Patient", p))))
		})
	}
}

func TestCompartmentRefused(t *testing.T) {
	conn, rec, base := serverConn(t)
	tests := map[string]func() error{
		"bad compartment type": func() error {
			return first(fhir.Search[models.Observation](ctx(t), conn, nil, fhir.Compartment("patient/1", "1")))
		},
		"bad id": func() error {
			return first(fhir.Search[models.Observation](ctx(t), conn, nil, fhir.Compartment("Patient", "../x")))
		},
		"all types": func() error {
			return first(conn.Pages(ctx(t), "", nil, fhir.Compartment("Patient", "1")))
		},
		"history": func() error {
			return first(conn.History(ctx(t), "Observation", "", nil, fhir.Compartment("Patient", "1")))
		},
		"everything": func() error {
			return first(conn.Everything(ctx(t), "Patient", "1", nil, fhir.Compartment("Patient", "1")))
		},
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			err := fn()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ehr")
		})
	}
	assert.Empty(t, rec.requests(base), "nothing is sent")
	assert.ErrorIs(t, tests["bad id"](), rest.ErrBadPath)

	// The server refuses what is no compartment.
	err := first(fhir.Search[models.Observation](ctx(t), conn, nil, fhir.Compartment("Organization", "1")))
	assert.ErrorIs(t, err, rest.ErrBadRequest)
}

// first returns the first error of a sequence.
func first[V any](seq func(func(V, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// A search whose URL would be over 8 KiB goes by POST _search; the server
// really refuses the GET form (414), as servers and proxies do.
func TestLongSearchGoesByPost(t *testing.T) {
	conn, rec, base := serverConn(t)
	ids := make([]string, 0, 500)
	for i := range 500 { // 500 ids of ~15 bytes and commas: a ~9 KB URL once escaped
		ids = append(ids, testID(t, "x"+string(rune('a'+i%26))))
	}
	p := &models.Patient{Id: &ids[7]}
	put(t, conn, p)

	var got []string
	for p, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Add("_id", ids...)) {
		require.NoError(t, err)
		got = append(got, *p.Id)
	}
	assert.Equal(t, []string{ids[7]}, got)
	assert.Equal(t, []string{"PUT Patient/" + ids[7], "POST Patient/_search"}, rec.requests(base))

	// The same search by GET is refused by the server.
	u := base + "/Patient?" + url.Values{"_id": {strings.Join(ids, ",")}}.Encode()
	require.Greater(t, len(u), 8<<10)
	resp, err := http.Get(u)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusRequestURITooLong, resp.StatusCode)

	// A short one stays a GET.
	for _, err := range fhir.Search[models.Patient](ctx(t), conn, fhir.Params().Add("_id", ids[7])) {
		require.NoError(t, err)
	}
	assert.Equal(t, "GET Patient", rec.requests(base)[2])
}

// A proxy with a lower limit than 8 KiB answers 414 to a GET: the search
// is sent again by POST.
func TestSearchRefusedAsTooLongIsSentByPost(t *testing.T) {
	base, client := newFHIRServer(t)
	target, err := url.Parse(base)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	proxy.Transport = client.Transport
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > 2048 {
			http.Error(w, "414 Request-URI Too Large", http.StatusRequestURITooLong)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	rec := &recorder{doer: front.Client()}
	frontBase := front.URL + target.Path
	conn, err := fhir.New("ehr", frontBase, rec)
	require.NoError(t, err)

	id := testID(t, "p")
	put(t, conn, &models.Patient{Id: &id})
	given := make([]string, 300) // a ~3 KB URL: under 8 KiB, over the proxy's 2 KiB
	for i := range given {
		given[i] = fmt.Sprintf("elem%03d", i)
	}
	q := fhir.Params().Add("_id", id).Add("_elements", given...)
	var got []string
	for p, err := range fhir.Search[models.Patient](ctx(t), conn, q) {
		require.NoError(t, err)
		got = append(got, *p.Id)
	}
	assert.Equal(t, []string{id}, got)
	assert.Equal(t, []string{"PUT Patient/" + id, "GET Patient", "POST Patient/_search"}, rec.requests(frontBase))
}

// Many goroutines search, long and short, in and out of compartments;
// a cancelled context ends its own search only.
func TestLongSearchesConcurrently(t *testing.T) {
	conn, _, _ := serverConn(t)
	p1, _, obs := patientWorld(t, conn)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			q := fhir.Params().Count(1)
			if i%2 == 0 {
				q = longQuery(q)
			}
			c := ctx(t)
			if i%4 == 3 {
				cc, cancel := context.WithCancel(c)
				cancel()
				c = cc
			}
			var ids []string
			var err error
			for o, e := range fhir.Search[models.Observation](c, conn, q, fhir.Compartment("Patient", p1)) {
				if e != nil {
					err = e
					break
				}
				ids = append(ids, *o.Id)
			}
			if i%4 == 3 {
				assert.ErrorIs(t, err, context.Canceled)
				return
			}
			assert.NoError(t, err)
			slices.Sort(ids)
			assert.Equal(t, []string{obs[0], obs[1], obs[2]}, ids)
		})
	}
	wg.Wait()
}
