package report

import (
	"strconv"
	"strings"
)

// csvHeader is the flat header row of --format csv; README documents each column.
var csvHeader = []string{
	"file", "client", "server", "start", "end", "duration_s", "websocket",
	"handshake", "http_status", "handshake_error", "method", "path", "host", "origin",
	"user_agent", "protocols", "request_extensions", "subprotocol", "extensions",
	"client_close_code", "client_close_reason", "client_close_time", "client_close_valid",
	"server_close_code", "server_close_reason", "server_close_time", "server_close_valid",
	"first_close", "tcp_end_first", "tcp_end_how", "tcp_end_time",
	"client_observed", "server_observed", "verdict", "unknown",
	"missing_bytes_client", "missing_bytes_server", "frames_client", "frames_server",
	"messages_client", "messages_server", "bytes_client", "bytes_server",
	"last_activity", "idle_before_end_s", "pings", "problems", "hints",
	"tls_version", "tls_cipher_suite", "tls_sni", "tls_alpn", "tls_resumed", "tls_decryption",
	"tls_close_notify_client", "tls_close_notify_server", "tls_alerts",
	"community_id", "display_filter", "frame_request", "frame_response", "frame_client_close",
	"frame_server_close", "frame_tcp_end",
	"pings_unanswered_client", "pings_unanswered_server", "rtt_ms_min", "rtt_ms_median", "rtt_ms_max",
	"request_time", "response_time", "key", "x_forwarded_for", "forwarded",
	"proxy_leg", "proxy_matched_by", "proxy_other_client", "proxy_other_server", "proxy_story",
	"last_client_type", "last_client_size", "last_client_time", "last_client_preview", "last_client_no_preview",
	"last_server_type", "last_server_size", "last_server_time", "last_server_preview", "last_server_no_preview",
}

func csvRow(r *Record) []string {
	var req Request
	if r.Request != nil {
		req = *r.Request
	}
	row := []string{
		r.File, r.Client, r.Server, r.Start.String(), r.End.String(), fmtFloat(r.DurationS),
		strconv.FormatBool(r.WebSocket), r.Handshake, intCell(r.HTTPStatus), strCell(r.HandshakeError),
		req.Method, req.Path, req.Host, req.Origin, req.UserAgent,
		list(req.Protocols), list(req.Extensions), strCell(r.Subprotocol), list(r.Extensions),
	}
	row = append(row, closeCSV(r.ClientClose)...)
	row = append(row, closeCSV(r.ServerClose)...)
	row = append(row, sideCell(r.FirstClose), sideCell(r.TCPEnd.First), strCell(r.TCPEnd.How), timeCell(r.TCPEnd.Time),
		intCell(r.ClientObserved), intCell(r.ServerObserved), string(r.Verdict), list(r.Unknown),
		i64(r.MissingBytes.Client), i64(r.MissingBytes.Server), i64(r.Frames.Client), i64(r.Frames.Server),
		i64(r.Messages.Client), i64(r.Messages.Server), i64(r.Bytes.Client), i64(r.Bytes.Server),
		timeCell(r.LastActivity), floatCell(r.IdleBeforeEndS), strconv.Itoa(len(r.Pings)),
		list(r.Problems), list(r.Hints))
	row = append(row, tlsCSV(r.TLS)...)
	fn := &r.FrameNumbers
	row = append(row, r.CommunityID, r.DisplayFilter, uintCell(fn.Request), uintCell(fn.Response),
		uintCell(fn.ClientClose), uintCell(fn.ServerClose), uintCell(fn.TCPEnd))
	k := &r.Keepalive
	row = append(row, i64(k.Unanswered.Client), i64(k.Unanswered.Server))
	if k.RTTMs != nil {
		row = append(row, fmtFloat(k.RTTMs.Min), fmtFloat(k.RTTMs.Median), fmtFloat(k.RTTMs.Max))
	} else {
		row = append(row, "", "", "")
	}
	row = append(row, timeCell(r.RequestTime), timeCell(r.ResponseTime), req.Key, req.XForwardedFor, req.Forwarded)
	if p := r.Proxy; p != nil {
		row = append(row, p.Leg, p.MatchedBy, p.Other.Client, p.Other.Server, p.Story)
	} else {
		row = append(row, "", "", "", "", "")
	}
	var lm LastMessages
	if r.LastMessages != nil {
		lm = *r.LastMessages
	}
	row = append(row, messageCSV(lm.Client)...)
	row = append(row, messageCSV(lm.Server)...)
	for i := range row {
		row[i] = Printable(row[i])
	}
	return row
}

// tlsCSV flattens the TLS object; alerts are "from level description" items.
func tlsCSV(t *TLS) []string {
	if t == nil {
		return make([]string, 9)
	}
	alerts := make([]string, len(t.Alerts))
	for i, a := range t.Alerts {
		alerts[i] = a.From.String() + " " + a.Level + " " + a.Description
	}
	return []string{t.Version, t.CipherSuite, t.SNI, strCell(t.ALPN), strconv.FormatBool(t.Resumed), t.Decryption,
		timeCell(t.CloseNotify.Client), timeCell(t.CloseNotify.Server), list(alerts)}
}

func closeCSV(c *Close) []string {
	if c == nil {
		return []string{"", "", "", ""}
	}
	return []string{intCell(c.Code), c.Reason, c.Time.String(), strconv.FormatBool(c.Valid)}
}

func list(l []string) string { return strings.Join(l, "; ") }

func intCell(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func uintCell(v *uint64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatUint(*v, 10)
}

func sideCell(s *Side) string {
	if s == nil {
		return ""
	}
	return s.String()
}

func strCell(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func timeCell(t *Time) string {
	if t == nil {
		return ""
	}
	return t.String()
}

func floatCell(f *float64) string {
	if f == nil {
		return ""
	}
	return fmtFloat(*f)
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func i64(v int64) string { return strconv.FormatInt(v, 10) }
