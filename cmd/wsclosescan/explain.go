package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// explanation is the JSON form of one close code's explanation.
type explanation struct {
	Code          int    `json:"code"`
	Name          string `json:"name"` // "" for a code without a name of its own
	Range         string `json:"range"`
	MaySend       bool   `json:"may_send"`
	Meaning       string `json:"meaning"`
	UsuallySentBy string `json:"usually_sent_by"`
	PeerSees      string `json:"peer_sees"`
	WhatToCheck   string `json:"what_to_check"`
	Reference     string `json:"reference"`
}

// explain prints what close codes mean and where to look when they show up:
// wsclosescan explain [-f json] CODE...
func (c *cli) explain(args []string) int {
	fs := pflag.NewFlagSet("explain", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.StringP("format", "f", "text", "")
	if err := fs.Parse(args); err != nil {
		c.errorf("explain: %v", err)
		return exitUsage
	}
	f, err := choice("explain --format", *format, "text", "json")
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	if fs.NArg() == 0 {
		c.errorf("explain takes one or more close codes, e.g. wsclosescan explain 1006 4001")
		return exitUsage
	}
	var out []explanation
	for _, arg := range fs.Args() {
		n, err := strconv.ParseUint(strings.TrimSpace(arg), 10, 16)
		if err != nil {
			c.errorf("invalid close code %q (want a number from 0 to 65535, e.g. 1006)", arg)
			return exitUsage
		}
		out = append(out, explainCode(wsparse.CloseCode(n)))
	}
	if f == "json" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err == nil {
			_, err = fmt.Fprintf(c.stdout, "%s\n", b)
		}
		return c.explainDone(err)
	}
	var b strings.Builder
	for i, e := range out {
		if i > 0 {
			b.WriteString("\n")
		}
		writeExplanation(&b, e)
	}
	_, err = io.WriteString(c.stdout, b.String())
	return c.explainDone(err)
}

func (c *cli) explainDone(err error) int {
	if err != nil {
		c.errorf("writing output: %v", err)
		return exitUsage
	}
	return exitOK
}

// explainCode returns the explanation of n. wsparse names a code without a name of its
// own after its range ("registered", "private"); that is not a name, so it is left out.
func explainCode(n wsparse.CloseCode) explanation {
	e := wsparse.Explain(n)
	name := e.Name
	if name == e.Range {
		name = ""
	}
	return explanation{Code: int(n), Name: name, Range: e.Range, MaySend: e.MaySend, Meaning: e.Meaning,
		UsuallySentBy: e.UsuallySentBy, PeerSees: e.PeerSees, WhatToCheck: e.WhatToCheck, Reference: e.Reference}
}

// rangeHeading describes a code without a name of its own, as the heading of its
// explanation.
var rangeHeading = map[string]string{
	"registered": "a code in the IANA-registered range 3000-3999, without a standard name",
	"private":    "a code in the private-use range 4000-4999, without a standard name",
	"reserved":   "a reserved code, without a name",
	"invalid":    "not a valid close code",
}

func writeExplanation(b *strings.Builder, e explanation) {
	heading := e.Name
	if heading == "" {
		heading = rangeHeading[e.Range]
		if heading == "" {
			heading = e.Range
		}
		heading = "(" + heading + ")"
	}
	fmt.Fprintf(b, "%d %s\n", e.Code, heading)
	onWire := "yes, it may be sent in a close frame"
	if !e.MaySend {
		onWire = "no, it must never be sent in a close frame"
	}
	row := func(label, text string) {
		if text != "" {
			fmt.Fprintf(b, "  %-14s %s\n", label+":", text)
		}
	}
	row("range", e.Range)
	row("on the wire", onWire)
	row("meaning", e.Meaning)
	row("sent by", e.UsuallySentBy)
	row("peer's API", e.PeerSees)
	row("what to check", e.WhatToCheck)
	row("reference", e.Reference)
}
