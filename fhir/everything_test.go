package fhir_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"sync"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// record is a patient's record as a test builds it.
type record struct {
	patient, other, practitioner, obs, otherObs, enc, cond string
}

func createID[T any](t *testing.T, conn *fhir.Conn, res *T) string {
	t.Helper()
	out, err := fhir.Create(ctx(t), conn, res)
	require.NoError(t, err)
	return out.ID
}

func ref(typ, id string) *models.Reference { return &models.Reference{Reference: ptr(typ + "/" + id)} }

// makeRecord creates a patient with an Observation (by a Practitioner),
// an Encounter and a Condition of that encounter, and another patient
// with an Observation of their own.
func makeRecord(t *testing.T, conn *fhir.Conn) record {
	t.Helper()
	sys := testSystem(t)
	var r record
	r.patient = createID(t, conn, patientWith(sys, "e1", "Everything"))
	r.other = createID(t, conn, patientWith(sys, "e2", "Other"))
	r.practitioner = createID(t, conn, &models.Practitioner{Name: []models.HumanName{{Family: ptr("Doctor")}}})
	code := models.CodeableConcept{Text: ptr("pulse")}
	r.obs = createID(t, conn, &models.Observation{Status: models.ObservationStatusFinal, Code: code,
		Subject: ref("Patient", r.patient), Performer: []models.Reference{*ref("Practitioner", r.practitioner)}})
	r.otherObs = createID(t, conn, &models.Observation{Status: models.ObservationStatusFinal, Code: code, Subject: ref("Patient", r.other)})
	r.enc = createID(t, conn, &models.Encounter{Status: models.EncounterStatusFinished, Class: models.Coding{Code: ptr("AMB")},
		Subject: ref("Patient", r.patient)})
	r.cond = createID(t, conn, &models.Condition{Subject: *ref("Patient", r.patient), Encounter: ref("Encounter", r.enc),
		Code: &models.CodeableConcept{Text: ptr("cough")}})
	return r
}

// collect ranges seq, keeping "Type/id" of each resource.
func collect(t *testing.T, seq iter.Seq2[*fhir.Entry, error]) []string {
	t.Helper()
	var out []string
	for e, err := range seq {
		require.NoError(t, err)
		require.NoError(t, e.Err)
		out = append(out, typeID(e.Resource))
	}
	return out
}

func typeID(v any) string {
	switch r := v.(type) {
	case *models.Patient:
		return "Patient/" + *r.Id
	case *models.Practitioner:
		return "Practitioner/" + *r.Id
	case *models.Observation:
		return "Observation/" + *r.Id
	case *models.Encounter:
		return "Encounter/" + *r.Id
	case *models.Condition:
		return "Condition/" + *r.Id
	}
	return fmt.Sprintf("%T", v)
}

func TestEverythingOfAPatient(t *testing.T) {
	conn, sent := newTxServer(t)
	r := makeRecord(t, conn)

	before := sent.Load()
	got := collect(t, conn.Everything(ctx(t), "Patient", r.patient, fhir.Params().Count(2)))
	assert.Greater(t, sent.Load()-before, 2, "several pages")
	for _, want := range []string{"Patient/" + r.patient, "Observation/" + r.obs, "Encounter/" + r.enc,
		"Condition/" + r.cond, "Practitioner/" + r.practitioner} {
		assert.Contains(t, got, want, "the record and what it refers to")
	}
	assert.NotContains(t, got, "Patient/"+r.other)
	assert.NotContains(t, got, "Observation/"+r.otherObs)
	assert.Len(t, got, len(slices.Compact(slices.Sorted(slices.Values(got)))), "each resource once")

	only := collect(t, conn.Everything(ctx(t), "Patient", r.patient, fhir.Params().Add("_type", "Observation")))
	assert.Equal(t, []string{"Observation/" + r.obs}, only, "_type")
}

func TestEverythingOfAnEncounter(t *testing.T) {
	conn, _ := newTxServer(t)
	r := makeRecord(t, conn)
	got := collect(t, conn.Everything(ctx(t), "Encounter", r.enc, nil))
	assert.Contains(t, got, "Encounter/"+r.enc)
	assert.Contains(t, got, "Condition/"+r.cond, "in the encounter's compartment")
	assert.Contains(t, got, "Patient/"+r.patient, "what the encounter refers to")
	assert.NotContains(t, got, "Observation/"+r.otherObs)
}

func TestEverythingIsReusableAndCancellable(t *testing.T) {
	conn, sent := newTxServer(t)
	r := makeRecord(t, conn)
	seq := conn.Everything(ctx(t), "Patient", r.patient, fhir.Params().Count(2))
	first := collect(t, seq)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { assert.Equal(t, first, collect(t, seq), "each range starts again") })
	}
	wg.Wait()

	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	before := sent.Load()
	var errs []error
	n := 0
	for _, err := range conn.Everything(c, "Patient", r.patient, fhir.Params().Count(2)) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
		cancel() // mid-flight: the next page is not fetched
	}
	assert.Equal(t, 2, n, "the first page")
	require.Len(t, errs, 1, "the error ends the iteration")
	assert.ErrorIs(t, errs[0], context.Canceled)
	assert.Equal(t, before+1, sent.Load())

	err := firstErr(conn.Everything(ctx(t), "Patient", "nobody-"+r.patient, nil))
	assert.ErrorIs(t, err, rest.ErrNotFound)
	err = firstErr(conn.Everything(ctx(t), "", r.patient, nil))
	assert.ErrorIs(t, err, rest.ErrBadPath)
}

// TestEntriesKeepDecodeErrorsApart: in History and Everything a resource
// that does not decode is an Entry with Err and the iteration goes on,
// while a failed page ends it with the iteration's error.
func TestEntriesKeepDecodeErrorsApart(t *testing.T) {
	conn, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		next := "http://" + r.Host + r.URL.Path + "?page=2"
		_, _ = fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":%q}],"entry":[
			{"resource":{"resourceType":"Patient","id":"a"},"request":{"method":"PUT","url":"Patient/a"}},
			{"resource":{"resourceType":"Patient","id":"b","gender":"robot"},"request":{"method":"PUT","url":"Patient/b"},
			 "response":{"status":"200 OK","etag":"W/\"2\""}},
			{"resource":{"resourceType":"Observation","id":"c","status":"final","code":{"text":"x"}}}]}`, next)
	})
	for name, seq := range map[string]iter.Seq2[*fhir.Entry, error]{
		"history":    conn.History(ctx(t), "Patient", "", nil),
		"everything": conn.Everything(ctx(t), "Patient", "a", nil),
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			var iterErr error
			for e, err := range seq {
				if err != nil {
					iterErr = err
					continue
				}
				if e.Err != nil {
					var de *fhir.DecodeError
					require.ErrorAs(t, e.Err, &de)
					assert.Equal(t, "Patient", de.ResourceType)
					assert.ErrorContains(t, e.Err, "page 1, entry 1")
					assert.Equal(t, "b", e.ID, "what the entry says is kept")
					assert.Equal(t, "2", e.VersionID)
					got = append(got, "bad")
					continue
				}
				got = append(got, typeID(e.Resource))
			}
			assert.Equal(t, []string{"Patient/a", "bad", "Observation/c"}, got, "the page goes on past the bad entry")
			assert.ErrorIs(t, iterErr, rest.ErrServerError, "the failed page is the iteration's error")
		})
	}
}
