//go:build nosonic

package main

import "io"

const sonicNote = "sonic left out (built with -tags nosonic)"

func sonicEncoder(io.Writer) encoder { return nil }
