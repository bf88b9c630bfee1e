package fhir

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQueryEncode(t *testing.T) {
	tests := []struct {
		name string
		q    *Query
		want string
	}{
		{"nil", nil, ""},
		{"or values", Params().Add("family", "Chalmers", "Windsor"), "family=Chalmers%2CWindsor"},
		{"escaped comma", Params().Add("name", "a,b"), `name=a%5C%2Cb`},
		{"exact", Params().Add("name:exact", "Peter"), "name%3Aexact=Peter"},
		{"modifier", Params().Add("code:text", "weight"), "code%3Atext=weight"},
		{"prefix", Params().Add("birthdate", "ge2020-01-01"), "birthdate=ge2020-01-01"},
		{"token", Params().Token("identifier", "urn:oid:1", "12|3"), "identifier=urn%3Aoid%3A1%7C12%5C%7C3"},
		{"result params", Params().Add("_include", "MedicationRequest:medication").Count(5).Add("_sort", "-date", "_id").
			Add("_elements", "id", "name").Add("_summary", "true").Add("_total", "accurate"),
			"_count=5&_elements=id%2Cname&_include=MedicationRequest%3Amedication&_sort=-date%2C_id&_summary=true&_total=accurate"},
		{"and", Params().Add("date", "ge2020").Add("date", "lt2021"), "date=ge2020&date=lt2021"},
		{"ids", Params().Add("_id", "a", "b"), "_id=a%2Cb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.q.Values().Encode())
		})
	}
}
