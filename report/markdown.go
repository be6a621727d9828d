package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes records as a GitHub-flavoured Markdown table, ready to paste into an
// issue, followed by the summary and the hints of each connection.
func WriteMarkdown(w io.Writer, recs []Record) error {
	var b strings.Builder
	header := append([]string{"#"}, tableHeader...)
	writeMDRow(&b, header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	writeMDRow(&b, seps)
	for i := range recs {
		writeMDRow(&b, append([]string{fmt.Sprint(i + 1)}, tableRow(&recs[i])...))
	}
	fmt.Fprintf(&b, "\n%s\n", Summarize(recs))
	for i := range recs {
		for _, h := range recs[i].Hints {
			fmt.Fprintf(&b, "\n- **#%d** %s", i+1, mdEscape(h))
		}
	}
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
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
