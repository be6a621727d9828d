package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

func writeMDHeader(w io.Writer) error {
	var b strings.Builder
	header := append([]string{"#"}, tableHeader...)
	writeMDRow(&b, header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	writeMDRow(&b, seps)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMDRecord writes the table row of record n and appends its hints to hints.
func writeMDRecord(w io.Writer, n int, r *Record, hints *bytes.Buffer) error {
	var b strings.Builder
	writeMDRow(&b, append([]string{fmt.Sprint(n)}, tableRow(r)...))
	for _, h := range r.Hints {
		fmt.Fprintf(hints, "\n- **#%d** %s", n, mdEscape(h))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMDRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString("\n")
}

// mdEscaper escapes what would break a cell or turn into markup: pipes end cells,
// backticks and asterisks format, angle brackets become HTML.
var mdEscaper = strings.NewReplacer(`|`, `\|`, "`", "\\`", `*`, `\*`, `<`, `&lt;`, `>`, `&gt;`)

// mdEscape keeps a cell inside its column and makes control characters visible.
func mdEscape(s string) string { return mdEscaper.Replace(Printable(s)) }
