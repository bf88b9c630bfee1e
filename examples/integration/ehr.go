package main

import (
	"context"
	"fmt"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/tokenwire/tokenwire/fhir"
)

// Patient is the EHR's part of a summary: who the customer is as a
// patient, and the latest measurements.
type Patient struct {
	ID        string        `json:"id"` // the EHR's id, e.g. "Patient/p-1001"
	Name      string        `json:"name"`
	BirthDate string        `json:"birth_date"`
	Latest    []Measurement `json:"latest"` // newest first
}

// Measurement is one Observation, flattened.
type Measurement struct {
	What  string `json:"what"`
	Value string `json:"value"`
	Unit  string `json:"unit"`
	Date  string `json:"date"`
}

// latestCount is how many Observations a summary shows.
const latestCount = 2

// findPatient looks the customer up in the EHR by the identifier linking
// it to the CRM, then reads the latest Observations: two FHIR searches.
// A customer unknown to the EHR gives nil.
func findPatient(ctx context.Context, ehr *fhir.Conn, customerID string) (*Patient, error) {
	q := fhir.Params().Token("identifier", crmSystem, customerID).Count(1)
	for p, err := range fhir.Search[models.Patient](ctx, ehr, q, fhir.MaxPages(1)) {
		if err != nil {
			return nil, err
		}
		out := &Patient{ID: "Patient/" + str(p.Id), Name: displayName(p.Name), BirthDate: str(p.BirthDate)}
		out.Latest, err = latestObservations(ctx, ehr, out.ID)
		return out, err
	}
	return nil, nil
}

func latestObservations(ctx context.Context, ehr *fhir.Conn, patient string) ([]Measurement, error) {
	q := fhir.Params().Add("subject", patient).Add("_sort", "-date").Count(latestCount)
	var out []Measurement
	for o, err := range fhir.Search[models.Observation](ctx, ehr, q, fhir.MaxPages(1)) {
		if err != nil {
			return nil, err
		}
		m := Measurement{What: str(o.Code.Text), Date: str(o.EffectiveDateTime)}
		if v := o.ValueQuantity; v != nil && v.Value != nil {
			m.Value, m.Unit = v.Value.String(), str(v.Unit)
		}
		out = append(out, m)
	}
	return out, nil
}

// String is one line for the terminal.
func (p *Patient) String() string {
	if p == nil {
		return "EHR: no patient record"
	}
	var latest []string
	for _, m := range p.Latest {
		latest = append(latest, fmt.Sprintf("%s %s %s (%s)", m.What, m.Value, m.Unit, m.Date))
	}
	return fmt.Sprintf("EHR %s %s, born %s; latest: %s", p.ID, p.Name, p.BirthDate, strings.Join(latest, ", "))
}

func displayName(names []models.HumanName) string {
	if len(names) == 0 {
		return ""
	}
	n := names[0]
	if n.Text != nil {
		return *n.Text
	}
	return strings.TrimSpace(strings.Join(n.Given, " ") + " " + str(n.Family))
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
