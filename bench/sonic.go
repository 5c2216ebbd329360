//go:build !nosonic

package main

import (
	"io"

	"github.com/bytedance/sonic"
)

// sonicNote says how sonic took part in the run.
const sonicNote = ""

// sonicEncoder is sonic's encoder with encoding/json's settings but HTML
// left unescaped, as the other encoders of the row.
func sonicEncoder(w io.Writer) encoder {
	enc := sonic.ConfigStd.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
