package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// TableOptions controls the human-readable table.
type TableOptions struct {
	// Color highlights verdicts with ANSI colours; only for terminals.
	Color bool
	// ShowFile adds a column with the capture file of each connection.
	ShowFile bool
}

// reasonWidth is how many characters of a close reason the table shows.
const reasonWidth = 24

var tableHeader = []string{"client", "server", "handshake", "client close", "server close",
	"first close", "tcp end", "client saw", "server saw", "verdict"}

// tableRow returns the cells of a record in the order of tableHeader, not yet escaped.
func tableRow(r *Record) []string {
	return []string{
		r.Client, r.Server, handshakeCell(r), closeCellOf(r, "client", r.ClientClose),
		closeCellOf(r, "server", r.ServerClose), orDash(r.FirstClose), tcpEndCell(r),
		observedCellOf(r, "client_observed", r.ClientObserved),
		observedCellOf(r, "server_observed", r.ServerObserved), string(r.Verdict),
	}
}

// tableLine is a record as the table shows it: its cells, escaped (and coloured), and what
// the rows are sorted by. Tables of many connections hold these, not the records.
type tableLine struct {
	start          Time
	client, server string
	cells          []string
}

func newTableLine(r *Record, opts TableOptions) tableLine {
	row := tableRow(r)
	if opts.ShowFile {
		row = append([]string{r.File}, row...)
	}
	for j := range row {
		row[j] = Printable(row[j])
	}
	if opts.Color {
		last := len(row) - 1
		row[last] = colorVerdict(row[last])
	}
	return tableLine{start: r.Start, client: r.Client, server: r.Server, cells: row}
}

// renderTable writes the rows, in the order given, and the summary line.
func renderTable(w io.Writer, rows []tableLine, opts TableOptions, sum Summary) error {
	header := tableHeader
	if opts.ShowFile {
		header = append([]string{"file"}, header...)
	}
	tb := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tb.Header(header)
	for i := range rows {
		if err := tb.Append(rows[i].cells); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, sum.String())
	return err
}

func handshakeCell(r *Record) string {
	switch {
	case r.IsUnknown("handshake"):
		return "? (encrypted)"
	case r.Handshake == HandshakeRejected && r.HTTPStatus != nil && *r.HTTPStatus != 101:
		return "rejected " + strconv.Itoa(*r.HTTPStatus)
	case r.Handshake == HandshakeRejected:
		return "rejected 101"
	}
	return r.Handshake
}

// closeCellOf is closeCell, with "?" where the capture cannot tell: "? (bytes missing)" for
// a close frame that may be among missing bytes, a "?" code for one whose code was not
// captured.
func closeCellOf(r *Record, side string, c *Close) string {
	switch {
	case c == nil && r.IsUnknown(side+"_close") && r.IsUnknown("websocket"):
		return "? (encrypted)"
	case c == nil && r.IsUnknown(side+"_close"):
		return "? (bytes missing)"
	case c != nil && c.Code == nil && r.IsUnknown(side+"_close_code"):
		return "? (code not captured)"
	case c != nil && r.IsUnknown(side+"_close_reason"):
		return closeCell(c) + " (cut)"
	}
	return closeCell(c)
}

// observedCellOf is observedCell, with "?" where the capture cannot tell.
func observedCellOf(r *Record, field string, c *int) string {
	if c == nil && r.IsUnknown(field) {
		return "?"
	}
	return observedCell(c)
}

// closeCell formats a close frame as `1000 "bye"`, "no code" for an empty payload, or "-".
func closeCell(c *Close) string {
	if c == nil {
		return "-"
	}
	s := "no code"
	if c.Code != nil {
		s = strconv.Itoa(*c.Code)
	}
	if c.Reason != "" {
		s += ` "` + Shorten(c.Reason, reasonWidth) + `"`
	}
	if !c.Valid {
		s += " (invalid)"
	}
	return s
}

func tcpEndCell(r *Record) string {
	e := r.TCPEnd
	if e.How == nil || e.First == nil {
		return "open"
	}
	how := strings.ToUpper(*e.How)
	if r.H2 != nil { // an HTTP/2 stream ends by END_STREAM or RST_STREAM
		how = map[string]string{"fin": "END_STREAM", "rst": "RST_STREAM"}[*e.How]
	}
	return how + " " + *e.First
}

func observedCell(c *int) string {
	if c == nil {
		return "-"
	}
	return strconv.Itoa(*c)
}

func orDash(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func colorVerdict(v string) string {
	code := ""
	switch Verdict(v) {
	case VerdictClean:
		code = "32" // green
	case VerdictHalfClosed, VerdictOpenAtEnd, VerdictUnknown:
		code = "33" // yellow
	case VerdictAbnormal, VerdictHandshakeFailed:
		code = "31" // red
	default:
		return v
	}
	return "\x1b[" + code + "m" + v + "\x1b[0m"
}
