package redact

import "testing"

func TestTokens(t *testing.T) {
	for _, c := range []struct{ s, want string }{
		{"injected fault 400 (count 4)", "injected fault 400 (count [redacted])"},
		{"no female patient, male", "no female patient, [redacted]"},
		{"MRN12345 and 123456 and 12345.", "MRN[redacted] and 123456 and [redacted]."},
		{"CHALMERS, chalmers, Chalmersson", "[redacted], [redacted], Chalmersson"},
	} {
		if got := Tokens(c.s, "4", "male", "12345", "Chalmers"); got != c.want {
			t.Errorf("Tokens(%q) = %q, want %q", c.s, got, c.want)
		}
	}
	if got := Tokens("İstanbul", "i̇stanbul"); got == "" {
		t.Fatal("lengths changed by case folding must not break matching")
	}
}
