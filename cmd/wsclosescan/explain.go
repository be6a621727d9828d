package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/wsparse"
)

// explain prints what a close code means and where to look when it shows up.
func (c *cli) explain(arg string) int {
	n, err := strconv.ParseUint(strings.TrimSpace(arg), 10, 16)
	if err != nil {
		c.errorf("invalid close code %q (want a number from 0 to 65535, e.g. 1006)", arg)
		return exitUsage
	}
	e := wsparse.Explain(wsparse.CloseCode(n))
	onWire := "yes, it may be sent in a close frame"
	if !e.MaySend {
		onWire = "no, it must never be sent in a close frame"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s\n", n, e.Name)
	row := func(label, text string) {
		if text != "" {
			fmt.Fprintf(&b, "  %-14s %s\n", label+":", text)
		}
	}
	row("range", e.Range)
	row("on the wire", onWire)
	row("meaning", e.Meaning)
	row("sent by", e.UsuallySentBy)
	row("peer's API", e.PeerSees)
	row("what to check", e.WhatToCheck)
	row("reference", e.Reference)
	fmt.Fprint(c.stdout, b.String())
	return exitOK
}
