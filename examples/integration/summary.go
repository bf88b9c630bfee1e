package main

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// Summary is the composite answer of the integration layer: one customer
// as seen by several backends.
type Summary struct {
	CustomerID   string    `json:"customer_id"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Orders       []Order   `json:"orders"`
	OpenInvoices []Invoice `json:"open_invoices"`
	Patient      *Patient  `json:"patient,omitempty"` // from the EHR, when there is one
	hasEHR       bool      // an EHR was asked
}

// Customer, Order and Invoice are what the CRM and billing APIs return.
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type Order struct {
	ID         string `json:"id"`
	TotalCents int64  `json:"total_cents"`
}

type Invoice struct {
	ID          string `json:"id"`
	AmountCents int64  `json:"amount_cents"`
	Status      string `json:"status"`
}

// part fills its own fields of a Summary from one backend. Parts run
// concurrently, so each writes only its own fields.
type part struct {
	name string
	fill func(ctx context.Context, id string, s *Summary) error
}

// Summarizer builds summaries from named connections. A new backend is one
// more part.
type Summarizer struct {
	parts   []part
	withEHR bool
}

// NewSummarizer looks up the connections the summary needs, by name: the
// REST connections "crm" and "billing", and the FHIR connection "ehr" if
// the configuration has one.
func NewSummarizer(reg *backends.Registry) (*Summarizer, error) {
	crm, err := reg.REST("crm")
	if err != nil {
		return nil, err
	}
	billing, err := reg.REST("billing")
	if err != nil {
		return nil, err
	}
	sz := &Summarizer{parts: []part{
		{"crm customer", func(ctx context.Context, id string, s *Summary) error {
			c, err := rest.GetJSON[Customer](ctx, crm, rest.Path("customers", id))
			s.Name, s.Email = c.Name, c.Email
			return err
		}},
		{"crm orders", func(ctx context.Context, id string, s *Summary) error {
			var err error
			s.Orders, err = rest.GetJSON[[]Order](ctx, crm, rest.Path("customers", id, "orders"))
			return err
		}},
		{"billing invoices", func(ctx context.Context, id string, s *Summary) error {
			var err error
			s.OpenInvoices, err = rest.GetJSON[[]Invoice](ctx, billing, "invoices",
				rest.Query("customer", id), rest.Query("status", "open"))
			return err
		}},
	}}
	ehr, err := reg.FHIR("ehr")
	switch {
	case errors.Is(err, backends.ErrUnknownConnection):
		return sz, nil // no EHR configured: summaries without a patient part
	case err != nil:
		return nil, err
	}
	sz.parts = append(sz.parts, part{"ehr patient", func(ctx context.Context, id string, s *Summary) error {
		var err error
		s.Patient, err = findPatient(ctx, ehr, id)
		return err
	}})
	sz.withEHR = true
	return sz, nil
}

// Summary asks every backend at once and combines their answers.
func (sz *Summarizer) Summary(ctx context.Context, id string) (*Summary, error) {
	s := &Summary{CustomerID: id, hasEHR: sz.withEHR}
	g, ctx := errgroup.WithContext(ctx)
	for _, p := range sz.parts {
		g.Go(func() error {
			if err := p.fill(ctx, id, s); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("summary of customer %s: %w", id, err)
	}
	return s, nil
}

// Batch builds the summaries of ids concurrently, in the order of ids.
func (sz *Summarizer) Batch(ctx context.Context, ids []string) ([]*Summary, error) {
	out := make([]*Summary, len(ids))
	g, ctx := errgroup.WithContext(ctx)
	for i, id := range ids {
		g.Go(func() (err error) {
			out[i], err = sz.Summary(ctx, id)
			return err
		})
	}
	return out, g.Wait()
}

// String is one line for the terminal.
func (s *Summary) String() string {
	var ordered, due int64
	for _, o := range s.Orders {
		ordered += o.TotalCents
	}
	for _, inv := range s.OpenInvoices {
		due += inv.AmountCents
	}
	line := fmt.Sprintf("%-5s %-18s orders: %d (%s)  open invoices: %d (%s)",
		s.CustomerID, s.Name, len(s.Orders), money(ordered), len(s.OpenInvoices), money(due))
	if s.hasEHR {
		line += "\n      " + s.Patient.String()
	}
	return line
}

func money(cents int64) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) }
