package jsonenc

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// compareReplaced orders a and b by code point after U+FFFD replacement of
// their invalid bytes, then by their bytes. For valid UTF-8 it is byte order.
func compareReplaced(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ra, na := utf8.DecodeRuneInString(a[i:])
		rb, nb := utf8.DecodeRuneInString(b[j:])
		if ra != rb {
			return int(ra) - int(rb)
		}
		i += na
		j += nb
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return strings.Compare(a, b)
}

// compareKeys orders keys by bytes when valid (every key is valid UTF-8, so
// byte order is code point order), else by compareReplaced.
func compareKeys(a, b string, valid bool) int {
	if valid {
		return strings.Compare(a, b)
	}
	return compareReplaced(a, b)
}

// prefix returns the first 8 bytes of s, big-endian, zero-padded: when two
// prefixes differ they order their strings by bytes.
func prefix(s string) uint64 {
	if len(s) >= 8 {
		return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
			uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
	}
	var p uint64
	for i := range len(s) {
		p |= uint64(s[i]) << (56 - 8*i)
	}
	return p
}

// lessBytes reports whether a's key sorts before b's by bytes.
func lessBytes[V any](a, b *pair[V]) bool {
	if a.pre != b.pre {
		return a.pre < b.pre
	}
	return a.key < b.key
}

// sortPairs sorts ps by key (see compareKeys): an insertion sort for small
// maps, pdqsort beyond.
func sortPairs[V any](ps []pair[V], valid bool) {
	if len(ps) > smallMap {
		if valid {
			slices.SortFunc(ps, func(a, b pair[V]) int {
				if a.pre != b.pre {
					return cmp.Compare(a.pre, b.pre)
				}
				return strings.Compare(a.key, b.key)
			})
		} else {
			slices.SortFunc(ps, func(a, b pair[V]) int { return compareReplaced(a.key, b.key) })
		}
		return
	}
	for i := 1; i < len(ps); i++ {
		p := ps[i]
		j := i
		if valid {
			for j > 0 && lessBytes(&p, &ps[j-1]) {
				ps[j] = ps[j-1]
				j--
			}
		} else {
			for j > 0 && compareReplaced(ps[j-1].key, p.key) > 0 {
				ps[j] = ps[j-1]
				j--
			}
		}
		ps[j] = p
	}
}
