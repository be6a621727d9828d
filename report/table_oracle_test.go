package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// tablewriterGroup draws a group as the table did with tablewriter, the oracle the grid of
// renderGroup is checked against.
func tablewriterGroup(t testing.TB, rows []tableLine, idx []int, cols []column, opts TableOptions) string {
	var out bytes.Buffer
	header := make([]string, len(cols))
	for j, c := range cols {
		header[j] = termHeader[c.col]
	}
	tb := tablewriter.NewTable(&out,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tb.Header(header)
	for _, i := range idx {
		cells := make([]string, len(cols))
		for j, c := range cols {
			v := fitCell(rows[i].cellOrNum(c.col, i), c)
			if c.col == colVerdict && opts.Color {
				v = colorVerdict(v)
			}
			cells[j] = v
		}
		if err := tb.Append(cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// FuzzTableGrid checks renderGroup against tablewriter on rows made of the input's
// printable cells: the same grid, byte for byte.
func FuzzTableGrid(f *testing.F) {
	f.Add("127.0.0.1:50000|10.0.0.2:80|101|1000*/1000|bye|FIN server|1000/1000|clean", 3, 120, false)
	f.Add("[::1]:1|[::1]:2|-|-/-|…|open|-/-|open_at_end", 1, 60, true)
	f.Add("", 0, 120, false)
	f.Add("a|b|c|d|e|f|g|h|i|j|k|l", 2, 40, true)
	f.Fuzz(func(t *testing.T, cells string, n, width int, color bool) {
		if n < 0 || n > 8 || width < 0 || width > 300 || len(cells) > 400 {
			return
		}
		fields := strings.Split(cells, "|")
		for i, c := range fields {
			// Cells are always Printable, and never empty.
			if fields[i] = Printable(c); fields[i] == "" {
				fields[i] = "-"
			}
		}
		rows := make([]tableLine, n)
		idx := make([]int, n)
		for i := range rows {
			var cells [numCols]string
			for c := range numCols {
				cells[c] = fields[(i*numCols+c)%len(fields)]
			}
			rows[i].setCells(&cells)
			idx[i] = i
		}
		cols := fitColumns(rows, width)
		opts := TableOptions{Color: color}
		var got bytes.Buffer
		if err := renderGroup(&got, rows, idx, cols, opts); err != nil {
			t.Fatal(err)
		}
		if want := tablewriterGroup(t, rows, idx, cols, opts); got.String() != want {
			t.Errorf("grid differs from tablewriter's\ngot:\n%s\nwant:\n%s", got.String(), want)
		}
	})
}
