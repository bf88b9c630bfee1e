package fhir_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

// patientWith is a Patient with one identifier of system sys.
func patientWith(sys, value, family string) *models.Patient {
	return &models.Patient{Identifier: []models.Identifier{{System: &sys, Value: &value}},
		Name: []models.HumanName{{Family: &family}}}
}

func byIdentifier(sys, value string) *fhir.Query {
	return fhir.Params().Token("identifier", sys, value)
}

// condRef is a conditional reference to the Patient with this identifier.
func condRef(sys, value string) *models.Reference {
	return &models.Reference{Reference: ptr("Patient?" + byIdentifier(sys, value).Values().Encode())}
}

func TestTransactionMapsWhatWasBuiltToWhatWasCreated(t *testing.T) {
	conn, sent := newTxServer(t)
	sys := testSystem(t)
	known, err := fhir.Create(ctx(t), conn, patientWith(sys, "known", "Known"))
	require.NoError(t, err)

	var tx fhir.Tx
	pat := tx.Create(patientWith(sys, "new", "New"), fhir.IfNoneExist(byIdentifier(sys, "new")))
	obs := tx.Create(&models.Observation{Status: models.ObservationStatusFinal, Code: models.CodeableConcept{Text: ptr("pulse")},
		Subject: &models.Reference{Reference: &pat}})
	enc := tx.Create(&models.Encounter{Status: models.EncounterStatusFinished, Class: models.Coding{Code: ptr("AMB")},
		Subject: condRef(sys, "known")})
	assert.Regexp(t, `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, pat)
	assert.NotEqual(t, pat, obs)

	before := sent.Load()
	res, err := conn.Transaction(ctx(t), &tx)
	require.NoError(t, err)
	assert.Equal(t, before+1, sent.Load(), "one round trip")
	require.Len(t, res, 3)
	for _, k := range []string{pat, obs, enc} {
		require.Contains(t, res, k)
		e := res[k]
		assert.Equal(t, http.StatusCreated, e.Status, k)
		assert.NotEmpty(t, e.ID, k)
		assert.Equal(t, "1", e.VersionID, k)
		assert.NoError(t, e.Err)
	}
	assert.IsType(t, &models.Patient{}, res[pat].Resource, "return=representation by default")

	o, err := fhir.Read[models.Observation](ctx(t), conn, res[obs].ID)
	require.NoError(t, err)
	assert.Equal(t, "Patient/"+res[pat].ID, *o.Subject.Reference, "the urn:uuid: became the new id")
	e, err := fhir.Read[models.Encounter](ctx(t), conn, res[enc].ID)
	require.NoError(t, err)
	assert.Equal(t, "Patient/"+known.ID, *e.Subject.Reference, "the conditional reference became the match")
}

func TestTransactionConditionalCreateFindsTheExistingResource(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, _ *counter, _ serverKind) {
		sys := testSystem(t)
		known, err := fhir.Create(ctx(t), conn, patientWith(sys, "mrn-1", "Known"))
		require.NoError(t, err)

		var tx fhir.Tx
		pat := tx.Create(patientWith(sys, "mrn-1", "Again"), fhir.IfNoneExist(byIdentifier(sys, "mrn-1")))
		obs := tx.Create(&models.Observation{Status: models.ObservationStatusFinal, Code: models.CodeableConcept{Text: ptr("pulse")},
			Subject: &models.Reference{Reference: &pat}})
		res, err := conn.Transaction(ctx(t), &tx)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, res[pat].Status, "nothing created")
		assert.Equal(t, known.ID, res[pat].ID)
		o, err := fhir.Read[models.Observation](ctx(t), conn, res[obs].ID)
		require.NoError(t, err)
		assert.Equal(t, "Patient/"+known.ID, *o.Subject.Reference, "references to the key point to the match")

		n := 0
		for _, err := range fhir.Search[models.Patient](ctx(t), conn, byIdentifier(sys, "mrn-1")) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 1, n)
	})
}

func TestTransactionFailsWhole(t *testing.T) {
	tests := map[string]func(tx *fhir.Tx, sys string){
		"a conditional reference matching nothing": func(tx *fhir.Tx, sys string) {
			tx.Create(&models.Encounter{Status: models.EncounterStatusFinished, Class: models.Coding{Code: ptr("AMB")},
				Subject: condRef(sys, "nobody")})
		},
		"a read of a missing resource": func(tx *fhir.Tx, sys string) {
			tx.Add("GET", "Patient/missing-"+sys[len(sys)-8:], nil)
		},
	}
	for name, add := range tests {
		t.Run(name, func(t *testing.T) {
			forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, _ *counter, srv serverKind) {
				if srv == onReal && name == "a conditional reference matching nothing" {
					t.Skip("Medplum's router leaves a conditional reference as it is (.ci/fhir/NOTES)")
				}
				sys := testSystem(t)
				var tx fhir.Tx
				tx.Create(patientWith(sys, "rolled-back", "Gone"))
				add(&tx, sys)
				_, err := conn.Transaction(ctx(t), &tx)
				var fe *fhir.Error
				require.ErrorAs(t, err, &fe)
				assert.GreaterOrEqual(t, fe.StatusCode, 400)

				for p, err := range fhir.Search[models.Patient](ctx(t), conn, byIdentifier(sys, "rolled-back")) {
					require.NoError(t, err)
					t.Errorf("the create was kept: Patient/%s", *p.Id)
				}
			})
		})
	}
}

func TestBatchEntriesFailAlone(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, _ *counter, _ serverKind) {
		sys := testSystem(t)
		p, err := fhir.Create(ctx(t), conn, patientWith(sys, "b1", "Batch"))
		require.NoError(t, err)
		q, err := fhir.Create(ctx(t), conn, patientWith(sys, "b2", "Batch"))
		require.NoError(t, err)

		var tx fhir.Tx
		read := tx.Add("GET", "Patient/"+p.ID, nil)
		missing := tx.Add("GET", "Patient/none-"+p.ID, nil)
		put := tx.Add("PUT", "Patient/"+q.ID, q.Resource)
		created := tx.Create(patientWith(sys, "b3", "Batch"))
		assert.Equal(t, "Patient/"+p.ID, read, "the key of an entry on a resource is its url")
		assert.Equal(t, "Patient/"+q.ID, put)

		res, err := conn.Batch(ctx(t), &tx)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, res[read].Status)
		assert.IsType(t, &models.Patient{}, res[read].Resource)
		assert.Equal(t, http.StatusNotFound, res[missing].Status)
		require.NotEmpty(t, res[missing].Issues)
		assert.Equal(t, "not-found", res[missing].Issues[0].Code)
		assert.Equal(t, http.StatusOK, res[put].Status)
		assert.NotEqual(t, q.VersionID, res[put].VersionID, "If-Match from meta.versionId held: a new version")
		assert.Equal(t, http.StatusCreated, res[created].Status)
	})
}

func TestTransactionLocksUpdatesAndReturnsMinimal(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, _ *counter, srv serverKind) {
		sys := testSystem(t)
		p, err := fhir.Create(ctx(t), conn, patientWith(sys, "l1", "Lock"))
		require.NoError(t, err)
		v2, err := fhir.Update(ctx(t), conn, p.Resource) // version 2: p.Resource still says 1
		require.NoError(t, err)

		var stale fhir.Tx
		stale.Add("PUT", "Patient/"+p.ID, p.Resource)
		_, err = conn.Transaction(ctx(t), &stale)
		assert.ErrorIs(t, err, rest.ErrPreconditionFailed, "ifMatch W/\"1\" against version 2")

		var last fhir.Tx
		key := last.Add("PUT", "Patient/"+p.ID, p.Resource, fhir.IfMatch(""))
		cond := last.Add("PUT", "Patient?"+byIdentifier(sys, "l2").Values().Encode(), patientWith(sys, "l2", "Cond"))
		res, err := conn.Transaction(ctx(t), &last, fhir.ReturnMinimal())
		require.NoError(t, err)
		if srv == onReal {
			// Medplum's entries carry no response.etag and a location
			// without _history: with return=minimal the version goes untold.
			assert.Empty(t, res[key].VersionID)
		} else {
			assert.NotEmpty(t, res[key].VersionID)
			assert.NotEqual(t, v2.VersionID, res[key].VersionID, "IfMatch(\"\"): last writer wins, a third version")
		}
		assert.Nil(t, res[key].Resource, "return=minimal")
		assert.Regexp(t, `^urn:uuid:`, cond, "a conditional update can be referred to")
		assert.Equal(t, http.StatusCreated, res[cond].Status)
		assert.NotEmpty(t, res[cond].ID)
	})
}

func TestTxRefusesMistakesBeforeSending(t *testing.T) {
	tests := map[string]struct {
		build func(tx *fhir.Tx)
		want  string
	}{
		"empty":              {func(*fhir.Tx) {}, "no entries"},
		"unknown method":     {func(tx *fhir.Tx) { tx.Add("FETCH", "Patient/1", nil) }, `entry 0: method "FETCH"`},
		"bad type":           {func(tx *fhir.Tx) { tx.Add("GET", "../x?name=Secret", nil) }, "entry 0: url: fhir: invalid resource type"},
		"resource on DELETE": {func(tx *fhir.Tx) { tx.Add("DELETE", "Patient/1", &models.Patient{}) }, "resource goes with POST and PUT"},
		"PUT without one":    {func(tx *fhir.Tx) { tx.Add("PUT", "Patient/1", nil) }, "resource goes with POST and PUT"},
		"not a resource":     {func(tx *fhir.Tx) { tx.Create(&struct{ X chan int }{}) }, "entry 0"},
		"untyped JSON":       {func(tx *fhir.Tx) { tx.Create(map[string]any{"id": "1"}) }, "entry 0"},
		"per-entry prefer":   {func(tx *fhir.Tx) { tx.Create(&models.Patient{}, fhir.ReturnMinimal()) }, "whole Bundle"},
		"twice the same": {func(tx *fhir.Tx) {
			tx.Add("DELETE", "Patient/1", nil)
			tx.Add("PUT", "Patient/1", &models.Patient{Id: ptr("1")})
		}, "entry 1: PUT Patient is already entry 0"},
		"the first mistake": {func(tx *fhir.Tx) {
			tx.Add("GET", "Patient/1", nil)
			tx.Add("FETCH", "x", nil)
			tx.Add("PUT", "Patient/2", nil)
		}, "entry 1"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			conn, sent := newTxServer(t)
			var tx fhir.Tx
			tt.build(&tx)
			for _, send := range []func(context.Context, *fhir.Tx, ...fhir.WriteOption) (map[string]*fhir.Entry, error){conn.Transaction, conn.Batch} {
				res, err := send(ctx(t), &tx)
				require.Error(t, err)
				assert.ErrorContains(t, err, tt.want)
				assert.NotContains(t, err.Error(), "Secret", "no search value in errors")
				assert.Nil(t, res)
			}
			assert.Zero(t, sent.Load(), "nothing sent")
		})
	}
	conn, _ := newTxServer(t)
	_, err := conn.Transaction(ctx(t), nil)
	assert.ErrorContains(t, err, "no entries")
}

func TestTransactionSentConcurrently(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, _ *counter, _ serverKind) {
		sys := testSystem(t)
		var tx fhir.Tx
		pat := tx.Create(patientWith(sys, "c", "Concurrent"))
		obs := tx.Create(&models.Observation{Status: models.ObservationStatusFinal, Code: models.CodeableConcept{Text: ptr("pulse")},
			Subject: &models.Reference{Reference: &pat}})
		const n = 8
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res, err := conn.Transaction(ctx(t), &tx)
				if assert.NoError(t, err) {
					ids[i] = res[pat].ID
					assert.NotEmpty(t, res[obs].ID)
				}
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, id := range ids {
			assert.False(t, seen[id], "each sending creates its own Patient")
			seen[id] = true
		}

		cancelled, cancel := context.WithCancel(ctx(t))
		cancel()
		_, err := conn.Transaction(cancelled, &tx)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestTransactionAnswers(t *testing.T) {
	tests := map[string]struct {
		body  string
		check func(t *testing.T, res map[string]*fhir.Entry, err error, key string)
	}{
		"one entry too few": {`{"resourceType":"Bundle","type":"transaction-response","entry":[]}`,
			func(t *testing.T, res map[string]*fhir.Entry, err error, _ string) {
				assert.ErrorContains(t, err, "answered 0 entries for 1")
			}},
		"a representation that does not decode": {`{"resourceType":"Bundle","type":"transaction-response","entry":[
			{"resource":{"resourceType":"Patient","id":"9","gender":"robot"},
			 "response":{"status":"201 Created","location":"Patient/9/_history/4","etag":"W/\"4\"","lastModified":"2026-01-02T03:04:05Z"}}]}`,
			func(t *testing.T, res map[string]*fhir.Entry, err error, key string) {
				require.NoError(t, err, "the transaction was made")
				e := res[key]
				var de *fhir.DecodeError
				assert.ErrorAs(t, e.Err, &de)
				assert.Nil(t, e.Resource)
				assert.Equal(t, "9", e.ID)
				assert.Equal(t, "4", e.VersionID)
				assert.Equal(t, 2026, e.LastModified.Year())
			}},
		"not a Bundle": {`{"resourceType":"Patient"}`,
			func(t *testing.T, res map[string]*fhir.Entry, err error, _ string) {
				var de *fhir.DecodeError
				assert.ErrorAs(t, err, &de)
			}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			conn, rec := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				_, _ = fmt.Fprint(w, tt.body)
			})
			var tx fhir.Tx
			key := tx.Create(&models.Patient{})
			res, err := conn.Transaction(ctx(t), &tx)
			tt.check(t, res, err, key)
			require.Equal(t, 1, rec.count())
		})
	}
}

func TestTxBundleOnTheWire(t *testing.T) {
	var got models.Bundle
	var prefer string
	conn, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		prefer = r.Header.Get("Prefer")
		b, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(b, &got)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = fmt.Fprint(w, `{"resourceType":"Bundle","type":"transaction-response","entry":[{},{},{}]}`)
	})
	var tx fhir.Tx
	pat := tx.Create(&models.Patient{}, fhir.IfNoneExist(fhir.Params().Token("identifier", "s", "v")))
	tx.Add("PUT", "/Patient/7", &models.Patient{Id: ptr("7"), Meta: &models.Meta{VersionId: ptr("3")}})
	tx.Add("DELETE", "Patient/8", nil, fhir.IfMatch("2"))
	_, err := conn.Transaction(ctx(t), &tx)
	require.NoError(t, err)
	assert.Equal(t, "return=representation", prefer)
	assert.Equal(t, models.BundleTypeTransaction, got.Type)
	require.Len(t, got.Entry, 3)
	assert.Equal(t, pat, *got.Entry[0].FullUrl)
	assert.Equal(t, "identifier=s%7Cv", *got.Entry[0].Request.IfNoneExist)
	assert.Nil(t, got.Entry[0].Request.IfMatch)
	assert.Equal(t, conn.BaseURL()+"/Patient/7", *got.Entry[1].FullUrl)
	assert.Equal(t, "Patient/7", got.Entry[1].Request.Url)
	assert.Equal(t, `W/"3"`, *got.Entry[1].Request.IfMatch)
	assert.Nil(t, got.Entry[2].FullUrl)
	assert.Equal(t, models.HTTPVerbDELETE, got.Entry[2].Request.Method)
	assert.Equal(t, `W/"2"`, *got.Entry[2].Request.IfMatch)
}

// An entry whose response.status is no HTTP status is not a success: its
// Status is 0 and its Err says so, so that a caller that looks for failed
// batch entries (Status >= 400 or Err) does not take it for a 200.
func TestBatchEntryStatusThatIsNoStatus(t *testing.T) {
	for status, want := range map[string]int{
		"201 Created": 201, "404": 404, "400 Bad Request": 400, " 201 ": 201, "HTTP/1.1 201 Created": 201, "HTTP/1.1 Created": 0,
		"Bad Request": 0, "": 0, "4xx": 0, "999 Whatever": 0, "2010": 0, "99999999999999999999201": 0,
		strings.Repeat("Z", 10000): 0,
	} {
		conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			raw, _ := json.Marshal(status)
			_, _ = fmt.Fprintf(w, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":%s}}]}`, raw)
		})
		var tx fhir.Tx
		key := tx.Create(&models.Patient{})
		res, err := conn.Batch(ctx(t), &tx)
		require.NoError(t, err, "the batch was made")
		e := res[key]
		assert.Equal(t, want, e.Status, "%.40q", status)
		if want != 0 {
			assert.NoError(t, e.Err)
			continue
		}
		require.Error(t, e.Err, "%.40q", status)
		assert.ErrorContains(t, e.Err, "page 1, entry 0: response.status")
		assert.Less(t, len(e.Err.Error()), 200, "a server's text is bounded")
	}
}

// The response entries answer the request's in its order; a response
// whose entries are of other types than their requests' (out of order),
// or that is no transaction or batch response, is refused rather than
// read as giving one resource's id to another.
func TestTransactionResponseOutOfOrder(t *testing.T) {
	tests := map[string]struct {
		body string
		want string // "" when the answer is read
	}{
		"in order": {`{"resourceType":"Bundle","type":"transaction-response","entry":[
			{"response":{"status":"201 Created","location":"Patient/5/_history/1"}},
			{"response":{"status":"201 Created","location":"https://other.example/fhir/Observation/6"}}]}`, ""},
		"swapped locations": {`{"resourceType":"Bundle","type":"transaction-response","entry":[
			{"response":{"status":"201 Created","location":"Observation/6/_history/1"}},
			{"response":{"status":"201 Created","location":"Patient/5/_history/1"}}]}`, "entry 0 (POST Patient) was answered for Observation"},
		"swapped resources": {`{"resourceType":"Bundle","type":"transaction-response","entry":[
			{"resource":{"resourceType":"Observation","id":"6","status":"final","code":{}},"response":{"status":"201"}},
			{"resource":{"resourceType":"Patient","id":"5"},"response":{"status":"201"}}]}`, "entry 0 (POST Patient) was answered for Observation"},
		"a location that names no type": {`{"resourceType":"Bundle","type":"transaction-response","entry":[
			{"response":{"status":"201","location":"5"}},{"response":{"status":"201"}}]}`, "entry 0 (POST Patient) was answered for no resource type"},
		"a searchset": {`{"resourceType":"Bundle","type":"searchset","entry":[{"response":{"status":"201"}},{"response":{"status":"201"}}]}`,
			"a Bundle of type searchset, not transaction-response"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				_, _ = io.WriteString(w, tt.body)
			})
			var tx fhir.Tx
			pat := tx.Create(&models.Patient{})
			obs := tx.Create(&models.Observation{Status: models.ObservationStatusFinal})
			res, err := conn.Transaction(ctx(t), &tx)
			if tt.want != "" {
				assert.ErrorContains(t, err, "fhir: ehr: transaction: "+tt.want)
				assert.Nil(t, res)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "5", res[pat].ID)
			assert.Equal(t, "6", res[obs].ID)
		})
	}
}

// A response with far more entries than were sent fails on the entry
// bound before memory is taken for them, as a page does: 15 MB of {}
// would otherwise be decoded into millions of entries (some 130 MiB)
// before the count was compared.
func TestTransactionResponseEntriesBounded(t *testing.T) {
	body := `{"resourceType":"Bundle","type":"transaction-response","entry":[` + strings.Repeat(`{},`, 5_000_000) + `{}]}`
	conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, body)
	})
	var tx fhir.Tx
	tx.Create(&models.Patient{})
	_, err := conn.Transaction(ctx(t), &tx)
	assert.ErrorIs(t, err, fhir.ErrBodyTooLarge)
	assert.ErrorContains(t, err, "fhir: ehr: transaction: the server answered more than 10000 entries for 1 (see WithMaxEntries)")
}

// A server that answers a transaction 200 with an OperationOutcome instead
// of a Bundle failed it: the error names the connection and carries the
// outcome's issues (as an *Error, scrubbed of the search values sent), not
// only "decoding Bundle: got OperationOutcome".
func TestTransactionAnsweredWithAnOutcome(t *testing.T) {
	conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing",
			"diagnostics":"identifier urn:sys|MRN-1234 matched 2 patients"}]}`)
	})
	var tx fhir.Tx
	tx.Create(&models.Patient{}, fhir.IfNoneExist(byIdentifier("urn:sys", "MRN-1234")))
	_, err := conn.Transaction(ctx(t), &tx)
	require.Error(t, err)
	assert.ErrorContains(t, err, "fhir: ehr: transaction: the server answered an OperationOutcome, not a Bundle")
	assert.ErrorContains(t, err, "error processing: identifier")
	assert.NotContains(t, err.Error(), "MRN-1234")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, http.StatusOK, fe.StatusCode)
	require.Len(t, fe.Issues, 1)
	assert.Equal(t, "processing", fe.Issues[0].Code)
}

// An entry that runs an operation (POST Patient/$match, CodeSystem/$lookup)
// is answered with what the operation returns — a Bundle, Parameters —
// not a resource of the type its URL starts with: that is no answer out of
// order, and the batch's (or the committed transaction's) results are read.
func TestTxOperationEntriesAnsweredWithTheirOutput(t *testing.T) {
	for _, typ := range []string{"batch", "transaction"} {
		t.Run(typ, func(t *testing.T) {
			conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				_, _ = fmt.Fprintf(w, `{"resourceType":"Bundle","type":"%s-response","entry":[
					{"resource":{"resourceType":"Bundle","type":"searchset","total":0},"response":{"status":"200 OK"}},
					{"resource":{"resourceType":"Parameters","parameter":[{"name":"display","valueString":"x"}]},"response":{"status":"200"}},
					{"response":{"status":"201 Created","location":"Patient/5/_history/1"}}]}`, typ)
			})
			var tx fhir.Tx
			match := tx.Add("POST", "Patient/$match", &models.Parameters{})
			lookup := tx.Add("POST", "CodeSystem/$lookup", &models.Parameters{})
			pat := tx.Create(&models.Patient{})
			send := conn.Batch
			if typ == "transaction" {
				send = conn.Transaction
			}
			res, err := send(ctx(t), &tx)
			require.NoError(t, err)
			assert.Equal(t, 200, res[match].Status)
			assert.IsType(t, &models.Bundle{}, res[match].Resource)
			assert.IsType(t, &models.Parameters{}, res[lookup].Resource)
			assert.Equal(t, "5", res[pat].ID)
		})
	}
}

// A transaction is made whole or not at all: a 200 transaction-response
// with an entry that failed contradicts itself. It is an error, so that
// the caller does not take it as made, with the results the server gave,
// so that it is not sent again blind. A DELETE of what is not there has
// done what it asked; a batch's failed entry is a result.
func TestTransactionEntryFailedInAMadeTransaction(t *testing.T) {
	tests := map[string]struct {
		status, method, want string
	}{
		"a failed create":             {"400 Bad Request", "POST", "fhir: ehr: transaction: entry 1 (POST Observation): answered 400 in a transaction answered as made"},
		"a server error":              {"HTTP/1.1 500", "POST", "entry 1 (POST Observation): answered 500"},
		"a conditional update":        {"412", "PUT", "entry 1 (PUT Observation?code=[redacted]): answered 412"},
		"a delete of what is gone":    {"410 Gone", "DELETE", ""},
		"a delete of what is missing": {"404", "DELETE", ""},
		"a created one":               {"201 Created", "POST", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			conn, _ := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				_, _ = fmt.Fprintf(w, `{"resourceType":"Bundle","type":"transaction-response","entry":[
					{"response":{"status":"201 Created","location":"Patient/5/_history/1"}},
					{"response":{"status":%q}}]}`, tt.status)
			})
			var tx fhir.Tx
			pat := tx.Create(&models.Patient{})
			obs := &models.Observation{Status: models.ObservationStatusFinal}
			var key string
			switch tt.method {
			case "POST":
				key = tx.Create(obs)
			case "PUT":
				key = tx.Add("PUT", "Observation?code=http://loinc.org|1234-5", obs)
			case "DELETE":
				key = tx.Add("DELETE", "Observation/6", nil)
			}
			res, err := conn.Transaction(ctx(t), &tx)
			if tt.want != "" {
				assert.ErrorContains(t, err, tt.want)
				assert.NotContains(t, err.Error(), "1234-5")
			} else {
				require.NoError(t, err)
			}
			require.Len(t, res, 2, "what the server says it made comes with the error")
			assert.NotZero(t, res[key].Status)
			assert.Equal(t, "5", res[pat].ID)
		})
	}
}
