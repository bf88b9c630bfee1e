package fhir_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

func refTo(s string) models.Reference { return models.Reference{Reference: &s} }

func TestResolveReadsEachTargetOnce(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, sent *counter, _ serverKind) {
		r := makeRecord(t, conn)
		updated, err := fhir.Read[models.Patient](ctx(t), conn, r.patient)
		require.NoError(t, err)
		v2, err := fhir.Update(ctx(t), conn, updated) // version 2
		require.NoError(t, err)

		var refs []models.Reference
		for range 10 { // a hundred Observations would name the same few
			refs = append(refs, refTo("Patient/"+r.patient), refTo("Practitioner/"+r.practitioner))
		}
		abs := conn.BaseURL() + "/Patient/" + r.patient
		v1 := "Patient/" + r.patient + "/_history/" + *updated.Meta.VersionId
		refs = append(refs, refTo(abs), refTo(v1))

		before := sent.Load()
		got, err := conn.Resolve(ctx(t), nil, refs...)
		require.NoError(t, err)
		assert.Equal(t, before+3, sent.Load(), "the patient, its version 1 and the practitioner: once each")
		require.Len(t, got, 4, "by reference as written")
		p, ok := got["Patient/"+r.patient].(*models.Patient)
		require.True(t, ok, "%T", got["Patient/"+r.patient])
		assert.Equal(t, v2.VersionID, *p.Meta.VersionId)
		assert.Same(t, p, got[abs], "an absolute reference on the base URL is the same target")
		assert.Equal(t, *updated.Meta.VersionId, *got[v1].(*models.Patient).Meta.VersionId)
		assert.IsType(t, &models.Practitioner{}, got["Practitioner/"+r.practitioner])
	})
}

func TestResolveLooksInWhatItIsGiven(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, sent *counter, _ serverKind) {
		obs := json.RawMessage(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},
			"contained":[{"resourceType":"Practitioner","id":"pr1","name":[{"family":"Inside"}]}],
			"performer":[{"reference":"#pr1"}]}`) // the models have no contained: JSON it is
		got, err := conn.Resolve(ctx(t), obs, refTo("#pr1"), refTo("#"))
		require.NoError(t, err)
		assert.Equal(t, "Inside", *got["#pr1"].(*models.Practitioner).Name[0].Family)
		assert.Equal(t, "o1", *got["#"].(*models.Observation).Id, `"#" is the resource itself`)
		got, err = conn.Resolve(ctx(t), []byte(obs), refTo("#pr1"))
		require.NoError(t, err)
		assert.Contains(t, got, "#pr1")

		p := &models.Patient{Id: ptr("p1")}
		got, err = conn.Resolve(ctx(t), p, refTo("#"))
		require.NoError(t, err)
		assert.Same(t, p, got["#"])

		urn := "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"
		b := &models.Bundle{Entry: []models.BundleEntry{
			{FullUrl: &urn, Resource: json.RawMessage(`{"resourceType":"Patient","id":"p9"}`)},
			{Resource: json.RawMessage(`{"resourceType":"Encounter","id":"e9","status":"finished","class":{"code":"AMB"}}`)},
		}}
		got, err = conn.Resolve(ctx(t), b, refTo(urn), refTo("Encounter/e9"), refTo(conn.BaseURL()+"/Encounter/e9"))
		require.NoError(t, err)
		assert.Equal(t, "p9", *got[urn].(*models.Patient).Id)
		assert.Equal(t, "e9", *got["Encounter/e9"].(*models.Encounter).Id)
		assert.Same(t, got["Encounter/e9"], got[conn.BaseURL()+"/Encounter/e9"])
		assert.Zero(t, sent.Load(), "nothing read")
	})
}

func TestResolveReportsEachFailure(t *testing.T) {
	forEachTxServer(t, func(t *testing.T, conn *fhir.Conn, sent *counter, _ serverKind) {
		r := makeRecord(t, conn)
		missing := "Patient/nobody-" + r.patient
		refs := []models.Reference{
			refTo("Patient/" + r.patient),
			refTo(missing), refTo(missing),
			refTo("https://elsewhere.example/fhir/Patient/1"),
			refTo("#nowhere"),
			{Identifier: &models.Identifier{Value: ptr("logical")}},
			refTo("Patient"),
		}
		before := sent.Load()
		got, err := conn.Resolve(ctx(t), nil, refs...)
		require.Error(t, err)
		assert.Len(t, got, 1, "what could be resolved is there")
		assert.IsType(t, &models.Patient{}, got["Patient/"+r.patient])
		assert.ErrorIs(t, err, rest.ErrNotFound)
		for _, want := range []string{missing, "not on the base URL", `no contained resource "#nowhere"`, "reference 5 has no reference element", "not a Type/id reference"} {
			assert.ErrorContains(t, err, want)
		}
		assert.Equal(t, before+2, sent.Load(), "the patient and the missing one, once: nothing elsewhere")

		c, cancel := context.WithCancel(ctx(t))
		cancel()
		_, err = conn.Resolve(c, nil, refTo("Patient/"+r.patient))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, before+2, sent.Load())
	})
}

// A read answered with another resource than the one referred to (another
// type, another id) does not resolve the reference: the caller would take
// an Observation, or another patient, for the patient its resource names.
func TestResolveRefusesAnotherResource(t *testing.T) {
	for answer, want := range map[string]string{
		`{"resourceType":"Patient","id":"1"}`:                                "",
		`{"resourceType":"Patient"}`:                                         "",
		`{"resourceType":"Observation","id":"1","status":"final","code":{}}`: `the server answered "Observation"/"1"`,
		`{"resourceType":"Patient","id":"2"}`:                                `the server answered "Patient"/"2"`,
		`{"resourceType":"Basic","id":"1","code":{}}`:                        `the server answered "Basic"/"1"`,
		`{"resourceType":"SomethingElse","id":"1"}`:                          `the server answered "SomethingElse"/"1"`,
	} {
		conn, rec := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = io.WriteString(w, answer)
		})
		refs := []models.Reference{{Reference: ptr("Patient/1")}, {Reference: ptr(conn.BaseURL() + "/Patient/1")}}
		out, err := conn.Resolve(ctx(t), nil, refs...)
		assert.Equal(t, 1, rec.count(), "read once")
		if want == "" {
			require.NoError(t, err, answer)
			assert.IsType(t, &models.Patient{}, out["Patient/1"])
			continue
		}
		assert.ErrorContains(t, err, "fhir: ehr: resolve Patient/1: "+want, answer)
		assert.Empty(t, out, answer)
	}
}

// A reference names a resource, never an operation or an interaction:
// "Patient/$everything" (or $export, $expunge…) in a server's data must
// not make Resolve run that operation with the connection's token, and
// paths that climb out of the type are refused too. Nothing is sent.
func TestResolveRefusesWhatIsNoResource(t *testing.T) {
	conn, rec := rawServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, `{"resourceType":"Patient","id":"1"}`)
	})
	for _, ref := range []string{
		"Patient/$everything", "Patient/$export", "Patient/1/$everything", "Patient/_history", "Patient/_search",
		"Patient/1/_history/$x", "Patient/..", "Patient/../../admin", "Patient/..%2F..%2Fadmin", "Patient/1?_format=xml",
		"Patient/1#x", conn.BaseURL() + "/Patient/%2e%2e", conn.BaseURL() + "/Patient/$everything", "//other.example/Patient/1",
	} {
		out, err := conn.Resolve(ctx(t), nil, models.Reference{Reference: &ref})
		assert.ErrorContains(t, err, "fhir: ehr: resolve", ref)
		assert.Empty(t, out, ref)
	}
	assert.Zero(t, rec.count(), "nothing sent")
}
