package report

import (
	"fmt"
	"strings"
)

// MaxComment is the most characters a GitHub issue comment holds.
const MaxComment = 65_536

// mdOpenRows is how many rows of a folded table stay visible above the <details>.
const mdOpenRows = 20

// mdHeader is the header of the Markdown table: the number, the file (with showFile),
// the columns of tableHeader, then the display filter.
func mdHeader(showFile bool) string {
	var b strings.Builder
	header := []string{"#"}
	if showFile {
		header = append(header, "file")
	}
	header = append(header, tableHeader...)
	header = append(header, "wireshark")
	b.WriteString("|")
	for _, c := range header {
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n|")
	for range header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	return b.String()
}

// foldMarkdown lays out the Markdown output: the table, the summary line, the hints and
// the diagrams. When it all fits in MaxComment it is written as it is. Otherwise the
// first mdOpenRows rows stay visible and the rest go into a <details> block, then as many
// rows, hints and diagrams as fit are kept (rows first), and a line says what was left
// out; dropped counts the records not even kept.
func foldMarkdown(recs []mdRecord, dropped int, summary string, showFile bool) string {
	header := mdHeader(showFile)
	var rows, hints, diagrams strings.Builder
	for _, r := range recs {
		rows.WriteString(r.row)
		hints.WriteString(r.hints)
		diagrams.WriteString(r.diagram)
	}
	plain := layoutMarkdown(header+rows.String(), summary, hints.String(), diagrams.String(), "")
	if dropped == 0 && len(plain) <= MaxComment {
		return plain
	}
	total := len(recs) + dropped
	// What the fixed parts take, with room for the note and the <details> tags.
	budget := MaxComment - 2*len(header) - len(summary) - 600
	var open, folded, hintOut, diagOut strings.Builder
	shown, hinted, drawn := 0, 0, 0
	for i, r := range recs {
		if len(r.row) > budget {
			break
		}
		budget -= len(r.row)
		if i < mdOpenRows {
			open.WriteString(r.row)
		} else {
			folded.WriteString(r.row)
		}
		shown++
	}
	for _, r := range recs[:shown] {
		if len(r.hints) > budget {
			break
		}
		budget -= len(r.hints)
		hintOut.WriteString(r.hints)
		hinted++
	}
	for _, r := range recs[:shown] {
		if len(r.diagram) > budget {
			break
		}
		budget -= len(r.diagram)
		diagOut.WriteString(r.diagram)
		if r.diagram != "" {
			drawn++
		}
	}
	table := header + open.String()
	if folded.Len() > 0 {
		table += fmt.Sprintf("\n<details><summary>%d more connections</summary>\n\n%s%s\n</details>\n",
			shown-min(shown, mdOpenRows), header, folded.String())
	}
	var left []string
	if shown < total {
		left = append(left, fmt.Sprintf("%d of the %d connections", total-shown, total))
	}
	if hinted < shown {
		left = append(left, fmt.Sprintf("the hints of %d", shown-hinted))
	}
	if diagrams.Len() > 0 && drawn < shown {
		left = append(left, fmt.Sprintf("the diagrams of %d", shown-drawn))
	}
	note := ""
	if len(left) > 0 {
		note = "\n_Left out to fit in a GitHub comment (65,536 characters): " + strings.Join(left, ", ") +
			"; --limit, --summary or --format csv show them all._\n"
	}
	return layoutMarkdown(table, summary, hintOut.String(), diagOut.String(), note)
}

func layoutMarkdown(table, summary, hints, diagrams, note string) string {
	var b strings.Builder
	b.WriteString(table)
	fmt.Fprintf(&b, "\n%s\n", summary)
	b.WriteString(note)
	if hints != "" {
		fmt.Fprintf(&b, "%s\n", hints)
	}
	b.WriteString(diagrams)
	return b.String()
}

// writeMDRow writes the escaped cells of a row, leaving it open for its last cell (see
// writeMDFilter).
func writeMDRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdEscape(c) + " |")
	}
}

// writeMDFilter ends a row with the display filter as a code span, to copy into
// Wireshark's filter bar. The filter is the tool's own text (addresses and ports, with
// no backtick or pipe), so it needs no escaping.
func writeMDFilter(b *strings.Builder, filter string) {
	if filter == "" {
		b.WriteString(" - |\n")
		return
	}
	b.WriteString(" `" + filter + "` |\n")
}

// mdEscaper escapes what would break a cell or turn into markup: pipes end cells,
// backticks and asterisks format, angle brackets become HTML.
var mdEscaper = strings.NewReplacer(`|`, `\|`, "`", "\\`", `*`, `\*`, `<`, `&lt;`, `>`, `&gt;`)

// mdEscape keeps a cell inside its column and makes control characters visible.
func mdEscape(s string) string { return mdEscaper.Replace(Printable(s)) }

// mermaidEscaper keeps wire text from ending a Mermaid statement (;), starting an entity
// code (#) or markup (< >); Mermaid's entity codes are decimal.
var mermaidEscaper = strings.NewReplacer(`#`, `#35;`, `;`, `#59;`, `<`, `#60;`, `>`, `#62;`, "`", `#96;`)

func mermaidEscape(s string) string { return mermaidEscaper.Replace(Printable(s)) }

// writeMermaid draws record n's timeline as a Mermaid sequence diagram, which GitHub
// renders: a heading, then a fenced block with one message per packet or frame, each
// labelled with its offset from the first packet; things that are not packets (gaps)
// are notes over both sides.
func writeMermaid(b *strings.Builder, n int, r *Record) {
	fmt.Fprintf(b, "\n**#%d** %s → %s, %s (%s, start %s)\n\n", n, mdEscape(r.Client), mdEscape(r.Server),
		r.Verdict, mdEscape(r.File), r.Start)
	if r.DisplayFilter != "" {
		fmt.Fprintf(b, "wireshark: `%s`", r.DisplayFilter)
		if r.CommunityID != "" {
			fmt.Fprintf(b, " · community-id: `%s`", r.CommunityID)
		}
		b.WriteString("\n\n")
	}
	b.WriteString("```mermaid\nsequenceDiagram\n")
	fmt.Fprintf(b, "    participant C as client %s\n    participant S as server %s\n",
		mermaidEscape(r.Client), mermaidEscape(r.Server))
	for _, e := range r.Timeline {
		label := fmt.Sprintf("+%.6f %s", e.OffsetS, mermaidEscape(e.What))
		switch e.From {
		case SideClient:
			fmt.Fprintf(b, "    C->>S: %s\n", label)
		case SideServer:
			fmt.Fprintf(b, "    S->>C: %s\n", label)
		default:
			fmt.Fprintf(b, "    Note over C,S: %s\n", label)
		}
	}
	b.WriteString("```\n")
	for _, h := range r.Hints {
		fmt.Fprintf(b, "\n> hint: %s\n", mdEscape(h))
	}
}
