package report

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LastMessages is the last complete data message each side sent before the end
// (--payloads); nil fields mean the side sent none.
type LastMessages struct {
	Client *Message `json:"client"`
	Server *Message `json:"server"`
}

// Message is a data message as --payloads shows it.
type Message struct {
	Type string `json:"type"` // "text" or "binary"
	// Size is the payload bytes on the wire (compressed, when Compressed).
	Size       int64 `json:"size"`
	Time       Time  `json:"time"`
	Compressed bool  `json:"compressed"` // permessage-deflate
	// InflatedSize is what a compressed message inflated to; null when not inflated.
	InflatedSize *int64 `json:"inflated_size"`
	// Preview is the start of the payload, unmasked and inflated: the first 64 bytes of
	// text (cut at a character boundary), the first 16 bytes of binary in hex; null when
	// NoPreview says why there is none.
	Preview    *string `json:"preview"`
	PreviewCut bool    `json:"preview_cut"` // the payload is longer than the preview
	NoPreview  *string `json:"no_preview"`
	// LaterBytesMissing: bytes of the side were lost after this message, so a later
	// message may be missing from the capture.
	LaterBytesMissing bool `json:"later_bytes_missing"`
}

// Preview sizes: text and binary.
const (
	TextPreview   = 64
	BinaryPreview = 16
)

// NewPreview makes a Message's preview from the first bytes of its payload and its
// length: text is cut at a character boundary, binary shown as hex.
func NewPreview(typ string, p []byte, length int64) (preview string, cut bool) {
	if typ == "binary" {
		n := min(len(p), BinaryPreview)
		return hex.EncodeToString(p[:n]), length > int64(n)
	}
	p = p[:min(len(p), TextPreview)]
	if length > int64(len(p)) {
		// Leave out a character the preview cuts in two.
		for i := 1; i <= utf8.UTFMax && i <= len(p); i++ {
			if utf8.RuneStart(p[len(p)-i]) {
				if !utf8.FullRune(p[len(p)-i:]) {
					p = p[:len(p)-i]
				}
				break
			}
		}
	}
	return string(p), length > int64(len(p))
}

// messageLines are the "said last" lines of a record, for the table, the timeline and
// Markdown: one per side that sent a message, with the time from the record's start.
func messageLines(r *Record) []string {
	if r.LastMessages == nil {
		return nil
	}
	var out []string
	for _, sm := range []struct {
		side string
		m    *Message
	}{{"client", r.LastMessages.Client}, {"server", r.LastMessages.Server}} {
		if sm.m != nil {
			out = append(out, sm.side+" said last: "+sm.m.describe(r.Start))
		}
	}
	return out
}

// describe renders m: `text, 23 bytes, at +1.204 s: "…"`, escaped for a terminal.
func (m *Message) describe(start Time) string {
	var b strings.Builder
	b.WriteString(m.Type + ", " + strconv.FormatInt(m.Size, 10) + " bytes")
	if m.Compressed {
		b.WriteString(" compressed")
		if m.InflatedSize != nil {
			b.WriteString(" (" + strconv.FormatInt(*m.InflatedSize, 10) + " inflated)")
		}
	}
	fmt.Fprintf(&b, ", at +%.6f s", m.Time.Sub(start.Time).Seconds())
	switch {
	case m.Preview != nil && m.Type == "text":
		b.WriteString(`: "` + Printable(*m.Preview))
		if m.PreviewCut {
			b.WriteString("…")
		}
		b.WriteString(`"`)
	case m.Preview != nil:
		b.WriteString(": " + spacedHex(*m.Preview))
		if m.PreviewCut {
			b.WriteString(" …")
		}
	case m.NoPreview != nil:
		b.WriteString(" (" + Printable(*m.NoPreview) + ")")
	}
	if m.LaterBytesMissing {
		b.WriteString("; bytes missing after it: a later message may be lost")
	}
	return b.String()
}

// spacedHex writes hex digits in pairs: "0102ff" as "01 02 ff".
func spacedHex(h string) string {
	var b strings.Builder
	for i := 0; i+1 < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

func appendMessage(dst []byte, m *Message) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, m.Type)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, m.Size, 10)
	dst = append(dst, `,"time":`...)
	dst = appendTime(dst, m.Time)
	dst = append(dst, `,"compressed":`...)
	dst = strconv.AppendBool(dst, m.Compressed)
	dst = append(dst, `,"inflated_size":`...)
	if m.InflatedSize == nil {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendInt(dst, *m.InflatedSize, 10)
	}
	dst = append(dst, `,"preview":`...)
	dst = appendStringPtr(dst, m.Preview)
	dst = append(dst, `,"preview_cut":`...)
	dst = strconv.AppendBool(dst, m.PreviewCut)
	dst = append(dst, `,"no_preview":`...)
	dst = appendStringPtr(dst, m.NoPreview)
	dst = append(dst, `,"later_bytes_missing":`...)
	dst = strconv.AppendBool(dst, m.LaterBytesMissing)
	return append(dst, '}')
}

// messageCSV flattens a side's last message: type, size, time, preview, no_preview.
func messageCSV(m *Message) []string {
	if m == nil {
		return make([]string, 5)
	}
	return []string{m.Type, strconv.FormatInt(m.Size, 10), m.Time.String(), strCell(m.Preview), strCell(m.NoPreview)}
}
