package transport_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

func TestValidateChannel(t *testing.T) {
	good := []string{"codeworm:logs", "a", "svc.events", "ünïcode:ok", "with space", strings.Repeat("x", transport.MaxChannelLen)}
	for _, name := range good {
		if err := transport.ValidateChannel(name); err != nil {
			t.Errorf("ValidateChannel(%q) = %v, want nil", name, err)
		}
	}
	bad := map[string]string{
		"":            "empty",
		"bad\xffchan": "not valid UTF-8",
		"nul\x00byte": "control character U+0000",
		"tab\tname":   "control character U+0009",
		"del\x7f":     "control character U+007F",
		"c1\u0085":    "control character U+0085",
		strings.Repeat("x", transport.MaxChannelLen+1): "over the limit of 255",
	}
	for name, want := range bad {
		err := transport.ValidateChannel(name)
		if !errors.Is(err, transport.ErrInvalidChannel) {
			t.Errorf("ValidateChannel(%q) = %v, want ErrInvalidChannel", name, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateChannel(%q) = %q, want it to say %q", name, err, want)
		}
	}
}

func TestQuoteChannelCutsLongNames(t *testing.T) {
	long := strings.Repeat("é", 50_000) // 100 000 bytes
	q := transport.QuoteChannel(long)
	if len(q) > 100 {
		t.Fatalf("QuoteChannel of a 100 KB name is %d bytes: %q", len(q), q)
	}
	if !strings.Contains(q, "(100000 bytes)") {
		t.Fatalf("QuoteChannel = %q, want the full length noted", q)
	}
	if strings.Contains(q, `\x`) {
		t.Fatalf("QuoteChannel = %q cut a rune in two", q)
	}
	if got := transport.QuoteChannel("codeworm:logs"); got != `"codeworm:logs"` {
		t.Fatalf("QuoteChannel(short) = %s", got)
	}
	err := transport.ValidateChannel(strings.Repeat("x", 100_000))
	if len(err.Error()) > 200 {
		t.Fatalf("error about a 100 KB name is %d bytes long", len(err.Error()))
	}
}
