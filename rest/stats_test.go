package rest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenwire/tokenwire/rest"
)

func TestStatsMaskEveryQueryValueOfTheBaseURL(t *testing.T) {
	c, err := rest.NewConn("crm", rest.ConnConfig{BaseURL: "https://api.example.com/v1?tenant=TENANT-zz&subscription-key=K3y"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c.Stats())
	if strings.Contains(string(b), "TENANT-zz") || strings.Contains(string(b), "K3y") || !strings.Contains(string(b), "tenant=") {
		t.Fatalf("stats: %s", b)
	}
}
