package redact

import "testing"

func TestTokens(t *testing.T) {
	for _, c := range []struct{ s, want string }{
		{"injected fault 400 (count 4)", "injected fault 400 (count [redacted])"},
		{"no female patient, male", "no female patient, [redacted]"},
		{"MRN12345 and 123456 and 12345.", "MRN[redacted] and 123456 and [redacted]."},
		{"CHALMERS, chalmers, Chalmersson", "[redacted], [redacted], Chalmersson"},
		// one letter whose lower case is longer ("İ") no longer makes the
		// whole text match exactly: CHALMERS went through
		{"İstanbul: CHALMERS", "İstanbul: [redacted]"},
		{"Dİ4 \xff CHALMERS", "Dİ[redacted] \xff [redacted]"},
	} {
		if got := Tokens(c.s, "4", "male", "12345", "Chalmers"); got != c.want {
			t.Errorf("Tokens(%q) = %q, want %q", c.s, got, c.want)
		}
	}
	// a value that is not UTF-8 (a query's "%83") is not matched against
	// the middle of a character: "Σ" lowered is "σ", CF 83
	if got := Tokens("0ΣςΣ0 x\x83", "\x83", "ς"); got != "0ΣςΣ0 x"+Mark {
		t.Errorf("Tokens matched inside a character: %q", got)
	}
	// the final sigma is a sigma, the micro sign a mu
	if got := Tokens("ΟΔΥΣΣΕΑΣ οδυσσεας Οδυσσέας, 5 µg", "Οδυσσεας", "μg"); got != Mark+" "+Mark+" Οδυσσέας, 5 "+Mark {
		t.Errorf("Tokens did not fold Greek: %q", got)
	}
	if got := Tokens("İstanbul", "i̇stanbul"); got == "" {
		t.Fatal("lengths changed by case folding must not break matching")
	}
}
