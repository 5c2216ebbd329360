package memory

import "testing"

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "a:b/c.d", true},
		{"codeworm:*", "codeworm:events", true},
		{"codeworm:*", "codeworm", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"h?llo", "héllo", true},
		{"h?llo", "hllo", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-c]llo", "hbllo", true},
		{"h[a-c]llo", "hdllo", false},
		{"h[c-a]llo", "hbllo", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`[\]]`, "]", true},
		{"[é-ü]", "ö", true},
		{"[]x", "x", false},
		{"x", "xx", false},
		{"**", "abc", true},
	}
	for _, c := range cases {
		if err := validPattern(c.pattern); err != nil {
			t.Fatalf("validPattern(%q): %v", c.pattern, err)
		}
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
	for _, bad := range []string{"[abc", `abc\`, `[a\]`} {
		if validPattern(bad) == nil {
			t.Errorf("validPattern(%q) accepted a malformed pattern", bad)
		}
	}
}
