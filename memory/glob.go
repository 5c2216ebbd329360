package memory

import (
	"unicode/utf8"

	"github.com/eventpub/eventpub/transport"
)

// validPattern reports a glob that cannot be matched: an unclosed '[' or a
// trailing '\'.
func validPattern(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 == len(p) {
				return transport.Invalid(transport.ErrInvalidChannel, "pattern %q ends with a lone '\\'", p)
			}
			i++
		case '[':
			if classEnd(p[i:]) < 0 {
				return transport.Invalid(transport.ErrInvalidChannel, "pattern %q has a '[' without its ']'", p)
			}
			i += classEnd(p[i:]) - 1
		}
	}
	return nil
}

// classEnd returns the length of the class at the start of p ("[...]"), or
// -1 when it is not closed.
func classEnd(p string) int {
	for i := 1; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case ']':
			return i + 1
		}
	}
	return -1
}

// matchClass reports whether r is in the class at the start of p, which
// validPattern has accepted, and the class's length in bytes.
func matchClass(p string, r rune) (bool, int) {
	end := classEnd(p)
	body := p[1 : end-1]
	negate := len(body) > 0 && body[0] == '^'
	if negate {
		body = body[1:]
	}
	in := false
	for len(body) > 0 {
		if body[0] == '\\' {
			body = body[1:]
		}
		lo, n := utf8.DecodeRuneInString(body)
		body = body[n:]
		hi := lo
		if len(body) >= 2 && body[0] == '-' {
			rest := body[1:]
			if rest[0] == '\\' {
				rest = rest[1:]
			}
			h, m := utf8.DecodeRuneInString(rest)
			hi = h
			body = rest[m:]
			if lo > hi {
				lo, hi = hi, lo
			}
		}
		if lo <= r && r <= hi {
			in = true
		}
	}
	return in != negate, end
}

// globMatch reports whether s matches the Redis-style glob p: '*' is any run
// of characters, '?' one character, "[...]" a class, '\' quotes.
func globMatch(p, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) && sx <= len(s) {
			switch p[px] {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px, sx = px+1, sx+n
					continue
				}
			case '[':
				if sx < len(s) {
					r, n := utf8.DecodeRuneInString(s[sx:])
					if ok, w := matchClass(p[px:], r); ok {
						px, sx = px+w, sx+n
						continue
					}
				}
			default:
				q := px
				if p[q] == '\\' {
					q++
				}
				if sx < len(s) {
					pr, pn := utf8.DecodeRuneInString(p[q:])
					sr, sn := utf8.DecodeRuneInString(s[sx:])
					if pr == sr {
						px, sx = q+pn, sx+sn
						continue
					}
				}
			}
		}
		if starP >= 0 && starS < len(s) {
			_, n := utf8.DecodeRuneInString(s[starS:])
			starS += n
			px, sx = starP+1, starS
			continue
		}
		return false
	}
	return true
}
