package redis

import "strings"

// slot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of the
// key, or of its {hash tag} when it has a non-empty one, modulo 16384.
func slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// bySlot splits names into groups whose names share a cluster hash slot,
// in the order each slot first appears, keeping the names' order within a
// group (one SSUBSCRIBE or XREAD may only name keys of one slot).
func bySlot(names []string) [][]string {
	index := map[int]int{}
	var groups [][]string
	for _, n := range names {
		s := slot(n)
		i, ok := index[s]
		if !ok {
			i = len(groups)
			index[s] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], n)
	}
	return groups
}
