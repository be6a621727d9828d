package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TableOptions controls the human-readable table.
type TableOptions struct {
	// Color highlights verdicts with ANSI colours; only for terminals.
	Color bool
	// ShowFile groups the rows by capture file, each group under the file's name (for
	// several files read separately). The row numbers stay those of start-time order.
	ShowFile bool
	// Width is the width the table and the hint lines below it fit in when they can (the
	// terminal's); 0 means DefaultWidth.
	Width int
}

// DefaultWidth is the width the table fits in unless TableOptions.Width says otherwise.
const DefaultWidth = 120

// reasonWidth is how many characters of a close reason the markdown table shows.
const reasonWidth = 24

// tableHeader and tableRow are the columns of the markdown table.
var tableHeader = []string{"client", "server", "handshake", "client close", "server close",
	"first close", "tcp end", "client saw", "server saw", "verdict"}

// tableRow returns the cells of a record in the order of tableHeader, not yet escaped.
func tableRow(r *Record) []string {
	return []string{
		r.Client, r.Server, handshakeCell(r), closeCellOf(r, "client", r.ClientClose),
		closeCellOf(r, "server", r.ServerClose), sideOrDash(r.FirstClose), tcpEndCell(r),
		observedCellOf(r, "client_observed", r.ClientObserved),
		observedCellOf(r, "server_observed", r.ServerObserved), string(r.Verdict),
	}
}

// The terminal table's columns. It is narrower than the markdown one: both close codes in
// one cell ("4000*/4000", * for the side that closed first), the first closer's reason in
// a column of its own, the HTTP status instead of the handshake state, both observed codes
// in one cell. The number column is filled when the rows are rendered.
const (
	colNum = iota
	colDuration
	colClient
	colServer
	colHTTP
	colCloses
	colReason
	colTCPEnd
	colSaw
	colVerdict
	numCols
)

var termHeader = [numCols]string{"#", "duration", "client", "server", "http", "close c/s", "reason",
	"tcp end", "saw c/s", "verdict"}

// Shrinking steps when the table is too wide (see fitColumns): the reason to minReason
// characters, the addresses to minAddr.
const (
	minReason = 8
	minAddr   = 12
)

// tableLine is a record as the table shows it: its cells, escaped, and what the rows are
// sorted and grouped by. Tables of many connections hold these, not the records, so a
// line is compact: its cells in one string (ends[c] is where cell c ends; the number
// column is filled when the rows are rendered), its start as seconds and nanoseconds, what
// few rows have behind one pointer. About 90 bytes and one allocation of the cells' text
// per connection, plus its first hint (BenchmarkTableRows).
type tableLine struct {
	sec  int64
	nsec int32
	ends [numCols]uint16
	text string
	file string
	hint string // the first hint, escaped; "" for none
	more *lineMore
}

// lineMore is what few table lines have.
type lineMore struct {
	client, server string   // the record's addresses, where they differ from their cells
	proxy          *Proxy   // the other leg of a proxied WebSocket, nil for none
	said           []string // the last messages (--payloads), escaped
}

func newTableLine(r *Record, opts TableOptions) tableLine {
	l := tableLine{sec: r.Start.Unix(), nsec: int32(r.Start.Nanosecond()), file: Printable(r.File)}
	cells := [numCols]string{
		colDuration: durationCell(r.DurationS),
		colClient:   Printable(r.Client),
		colServer:   Printable(r.Server),
		colHTTP:     httpCell(r),
		colCloses:   closeCodeCell(r, "client", r.ClientClose) + "/" + closeCodeCell(r, "server", r.ServerClose),
		colReason:   Printable(firstReason(r)),
		colTCPEnd:   tcpEndCell(r),
		colSaw: observedCellOf(r, "client_observed", r.ClientObserved) + "/" +
			observedCellOf(r, "server_observed", r.ServerObserved),
		colVerdict: Printable(string(r.Verdict)),
	}
	l.setCells(&cells)
	if len(r.Hints) > 0 {
		l.hint = Printable(r.Hints[0])
	}
	said := messageLines(r)
	if cells[colClient] != r.Client || cells[colServer] != r.Server || r.Proxy != nil || len(said) > 0 {
		l.more = &lineMore{client: r.Client, server: r.Server, proxy: r.Proxy, said: said}
	}
	return l
}

// setCells packs the cells into the line's text.
func (l *tableLine) setCells(cells *[numCols]string) {
	n := 0
	for c := range cells {
		// A cell longer than the ends can index is cut (a reason is at most 123 bytes,
		// escaped at most four times over; nothing else comes near).
		if n+len(cells[c]) > math.MaxUint16 {
			cells[c] = Shorten(cells[c], max(0, (math.MaxUint16-n)/utf8.UTFMax-1))
		}
		n += len(cells[c])
		l.ends[c] = uint16(n)
	}
	var b strings.Builder
	b.Grow(n)
	for _, c := range cells {
		b.WriteString(c)
	}
	l.text = b.String()
}

// cellOrNum returns the cell of column c of the line at index i of the rows: the number
// column is the line's number in the order given.
func (l *tableLine) cellOrNum(c, i int) string {
	if c == colNum {
		return strconv.Itoa(i + 1)
	}
	return l.cell(c)
}

// cell returns the line's cell of column c.
func (l *tableLine) cell(c int) string {
	from := 0
	if c > 0 {
		from = int(l.ends[c-1])
	}
	return l.text[from:l.ends[c]]
}

// addrs returns the record's client and server addresses.
func (l *tableLine) addrs() (client, server string) {
	if l.more != nil {
		return l.more.client, l.more.server
	}
	return l.cell(colClient), l.cell(colServer)
}

func (l *tableLine) proxy() *Proxy {
	if l.more == nil {
		return nil
	}
	return l.more.proxy
}

func (l *tableLine) said() []string {
	if l.more == nil {
		return nil
	}
	return l.more.said
}

// lineBefore orders table lines by start, then client, then server.
func lineBefore(a, b *tableLine) bool {
	if a.sec != b.sec {
		return a.sec < b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec < b.nsec
	}
	ac, as := a.addrs()
	bc, bs := b.addrs()
	if ac != bc {
		return ac < bc
	}
	return as < bs
}

// renderTable writes the rows, numbered in the order given (start-time order, as the
// timeline numbers them), grouped by file with opts.ShowFile; then each connection's first
// hint, shortened to the width, and the summary line.
func renderTable(w io.Writer, rows []tableLine, opts TableOptions, sum Summary) error {
	width := opts.Width
	if width <= 0 {
		width = DefaultWidth
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	if opts.ShowFile {
		first := map[string]int{}
		for i, r := range rows {
			if _, ok := first[r.file]; !ok {
				first[r.file] = i
			}
		}
		sort.SliceStable(order, func(a, b int) bool { return first[rows[order[a]].file] < first[rows[order[b]].file] })
	}
	cols := fitColumns(rows, width)
	for start := 0; start < len(order) || start == 0; {
		end := len(order)
		if opts.ShowFile && len(order) > 0 {
			end = start + 1
			for end < len(order) && rows[order[end]].file == rows[order[start]].file {
				end++
			}
			if _, err := fmt.Fprintf(w, "%s:\n", rows[order[start]].file); err != nil {
				return err
			}
		}
		if err := renderGroup(w, rows, order[start:end], cols, opts); err != nil {
			return err
		}
		if start = end; start >= len(order) {
			break
		}
	}
	for _, i := range order {
		n := strconv.Itoa(i + 1)
		if rows[i].hint != "" {
			if _, err := fmt.Fprintf(w, "#%s %s\n", n, shortHint(rows[i].hint, width-len(n)-2)); err != nil {
				return err
			}
		}
		for _, s := range rows[i].said() {
			if _, err := fmt.Fprintf(w, "#%s %s\n", n, s); err != nil {
				return err
			}
		}
	}
	if err := renderProxies(w, rows, order, width); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, sum.String())
	return err
}

// evidenceText says in a few words what paired two legs.
var evidenceText = map[string]string{
	"key":       "same key",
	"forwarded": "X-Forwarded-For",
	"timing":    "timing",
}

// wrapWords breaks s into lines of at most width runes at blanks (a word longer than a line
// stays whole), indenting the lines after the first; each line ends with a newline.
func wrapWords(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		wl := utf8.RuneCountInString(word)
		switch {
		case i == 0:
		case n+1+wl > width:
			b.WriteString("\n" + indent)
			n = utf8.RuneCountInString(indent)
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += wl
	}
	b.WriteByte('\n')
	return b.String()
}

// renderProxies writes a line per proxied WebSocket, wrapped to width:
// its client leg and backend leg by number (by address when the other leg is not
// listed), what paired them, and its story.
func renderProxies(w io.Writer, rows []tableLine, order []int, width int) error {
	num := map[[2]string]string{}
	for _, i := range order {
		client, server := rows[i].addrs()
		num[[2]string{client, server}] = strconv.Itoa(i + 1)
	}
	for _, i := range order {
		p := rows[i].proxy()
		if p == nil {
			continue
		}
		other, listed := num[[2]string{p.Other.Client, p.Other.Server}]
		if p.Leg == "backend" && listed {
			continue // told with its client leg
		}
		if !listed {
			other = Printable(p.Other.Client + " -> " + p.Other.Server)
		} else {
			other = "#" + other
		}
		client, backend := "#"+strconv.Itoa(i+1), other
		if p.Leg == "backend" {
			client, backend = other, client
		}
		head := fmt.Sprintf("%s+%s proxy legs", client, backend)
		line := fmt.Sprintf("(%s) %s", evidenceText[p.MatchedBy], Printable(p.Story))
		if _, err := io.WriteString(w, wrapWords(head+" "+line, width, "    ")); err != nil {
			return err
		}
	}
	return nil
}

// column is a terminal table column as fitted: which one, and how wide its cells may be.
type column struct {
	col, max int
}

// fitColumns chooses the columns and their widths so that the table fits in width: the
// natural widths if they fit, else shortening the reason, then leaving it out, then
// shortening the addresses (in the middle, keeping the port), then leaving out the
// duration, as far as that goes.
func fitColumns(rows []tableLine, width int) []column {
	var natural [numCols]int
	for c := range numCols {
		natural[c] = utf8.RuneCountInString(termHeader[c])
		for i := range rows {
			natural[c] = max(natural[c], utf8.RuneCountInString(rows[i].cellOrNum(c, i)))
		}
	}
	widths, shown := natural, [numCols]bool{}
	for c := range shown {
		shown[c] = true
	}
	total := func() int {
		n := 1
		for c := range numCols {
			if shown[c] {
				n += widths[c] + 3
			}
		}
		return n
	}
	if over := total() - width; over > 0 {
		widths[colReason] = max(minReason, widths[colReason]-over)
	}
	if total() > width {
		shown[colReason] = false
	}
	for total() > width && (widths[colClient] > minAddr || widths[colServer] > minAddr) {
		if widths[colClient] >= widths[colServer] && widths[colClient] > minAddr || widths[colServer] <= minAddr {
			widths[colClient]--
		} else {
			widths[colServer]--
		}
	}
	if total() > width {
		shown[colDuration] = false
	}
	var cols []column
	for c := range numCols {
		if shown[c] {
			cols = append(cols, column{col: c, max: widths[c]})
		}
	}
	return cols
}

// renderGroup writes one table of the rows at the indexes idx: an ASCII grid, each column
// as wide as its widest cell (fitted to the columns' maxima), cells left-aligned. It
// writes row by row from the held cells, so a table of many thousands of connections
// costs no copy of its rows (tablewriter, which drew it before, held every cell again
// with its own bookkeeping: twice the peak memory and most of the time on large tables).
func renderGroup(w io.Writer, rows []tableLine, idx []int, cols []column, opts TableOptions) error {
	cell := func(i int, c column) string { return fitCell(rows[i].cellOrNum(c.col, i), c) }
	widths := make([]int, len(cols))
	for j, c := range cols {
		widths[j] = cellWidth(termHeader[c.col])
		for _, i := range idx {
			widths[j] = max(widths[j], cellWidth(cell(i, c)))
		}
	}
	var b []byte
	rule := func() {
		b = append(b, '+')
		for _, n := range widths {
			for range n + 2 {
				b = append(b, '-')
			}
			b = append(b, '+')
		}
		b = append(b, '\n')
	}
	line := func(cells func(j int) string) {
		b = append(b, '|')
		for j, n := range widths {
			v := cells(j)
			b = append(b, ' ')
			b = append(b, v...)
			for range n - cellWidth(v) + 1 {
				b = append(b, ' ')
			}
			b = append(b, '|')
		}
		b = append(b, '\n')
	}
	flush := func() error {
		_, err := w.Write(b)
		b = b[:0]
		return err
	}
	rule()
	line(func(j int) string { return termHeader[cols[j].col] })
	rule()
	for _, i := range idx {
		line(func(j int) string {
			v := cell(i, cols[j])
			if cols[j].col == colVerdict && opts.Color {
				v = colorVerdict(v)
			}
			return v
		})
		if len(b) >= 32<<10 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(idx) > 0 {
		rule()
	}
	return flush()
}

// fitCell shortens v, a cell of column c, to the column's maximum: an address in the
// middle (keeping its port), the others at the end.
func fitCell(v string, c column) string {
	if utf8.RuneCountInString(v) <= c.max {
		return v
	}
	if c.col == colClient || c.col == colServer {
		return shortenMiddle(v, c.max)
	}
	return Shorten(v, c.max)
}

// cellWidth is the width of a cell on a terminal: its length for printable ASCII, else
// as tablewriter measures it (East Asian wide runes count two, ANSI colour codes none).
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

// shortenMiddle shortens s to max runes by replacing its middle with "…", keeping the end
// (an address's port).
func shortenMiddle(s string, max int) string {
	r := []rune(s)
	if len(r) <= max || max < 3 {
		return s
	}
	tail := (max - 1) / 2
	return string(r[:max-1-tail]) + "…" + string(r[len(r)-tail:])
}

// shortHint fits a hint in width runes: whole, or its first clause (up to ": ") with
// ": …", or cut.
func shortHint(h string, width int) string {
	if utf8.RuneCountInString(h) <= width {
		return h
	}
	if i := strings.Index(h, ": "); i > 0 && utf8.RuneCountInString(h[:i])+3 <= width {
		return h[:i] + ": …"
	}
	return Shorten(h, max(width, 10))
}

// durationCell is a connection's duration: "131 ms", "12.5 s", "4m05s", "2h03m".
func durationCell(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return "<1 ms"
	case d < time.Second:
		return strconv.Itoa(int(d/time.Millisecond)) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// httpCell is the status of the upgrade response: "101", "403"; "-" when no handshake was
// seen, "none" for a request without a response, "?" when encrypted.
func httpCell(r *Record) string {
	switch {
	case r.IsUnknown("handshake"):
		return "?"
	case r.HTTPStatus != nil:
		return strconv.Itoa(*r.HTTPStatus)
	case r.Handshake == HandshakeIncomplete:
		return "none"
	}
	return "-"
}

// closeCodeCell is one side's close frame in the close c/s cell: its code, "empty" without
// one, "-" for none, "?" when the capture cannot tell; "!" marks an invalid frame and "*"
// the side that closed first.
func closeCodeCell(r *Record, side string, c *Close) string {
	switch {
	case c == nil && r.IsUnknown(side+"_close"):
		return "?"
	case c == nil:
		return "-"
	}
	s := "empty"
	switch {
	case c.Code != nil:
		s = strconv.Itoa(*c.Code)
	case r.IsUnknown(side + "_close_code"):
		s = "?"
	}
	if !c.Valid {
		s += "!"
	}
	if r.FirstClose != nil && r.FirstClose.String() == side {
		s += "*"
	}
	return s
}

// firstReason is the reason of the first close frame, "-" for none.
func firstReason(r *Record) string {
	c, side := r.ClientClose, "client"
	if r.FirstClose != nil && *r.FirstClose == SideServer {
		c, side = r.ServerClose, "server"
	}
	switch {
	case c == nil || c.Reason == "":
		return "-"
	case r.IsUnknown(side + "_close_reason"):
		return c.Reason + " (cut)"
	}
	return c.Reason
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
		how = StreamEndName(*e.How)
	}
	return how + " " + e.First.String()
}

func observedCell(c *int) string {
	if c == nil {
		return "-"
	}
	return strconv.Itoa(*c)
}

func sideOrDash(s *Side) string {
	if s == nil {
		return "-"
	}
	return s.String()
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
