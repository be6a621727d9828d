package h2demux

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
)

// blockState is a header block being received: a HEADERS or PUSH_PROMISE frame and its
// CONTINUATION frames, decoded as the fragments arrive.
type blockState struct {
	open      bool
	stream    uint32
	typ       uint8 // frameHeaders or framePushPromise
	endStream bool
	failed    bool // not decoded
	size      int  // header bytes looked at
	fields    fields
}

// fields are the header fields read from a block.
type fields struct {
	method, protocol, path, authority, scheme, status string
	origin, version, protocols, extensions, userAgent string
}

// startBlock begins the header block of HEADERS or PUSH_PROMISE frame f.
func (c *Conn) startBlock(d *direction, f frameHeader) {
	d.block = blockState{
		open:      true,
		stream:    f.stream,
		typ:       f.typ,
		endStream: f.typ == frameHeaders && f.has(flagEndStream),
		failed:    d.headersBroken,
	}
	d.dec.SetEmitEnabled(true)
	c.info.HeaderBlocks[d.dir]++
}

// blockData decodes a fragment of the open header block.
func (c *Conn) blockData(d *direction, p []byte) {
	if !d.block.open || d.block.failed {
		return
	}
	if _, err := d.dec.Write(p); err != nil {
		c.blockFailed(d, err.Error())
	}
}

// blockFailed marks the open header block as not decoded, and the header state of d as
// unknown.
func (c *Conn) blockFailed(d *direction, why string) {
	if !d.block.open || d.block.failed {
		return
	}
	d.block.failed = true
	d.headersBroken = true
	c.info.HeaderStateLost[d.dir] = true
	c.problemf("%v: header block of stream %d: %s: header state unknown, later header blocks not decoded", d.dir, d.block.stream, why)
}

// closeBlock ends the open header block and acts on it.
func (c *Conn) closeBlock(d *direction, t time.Time) {
	if !d.block.failed {
		if err := d.dec.Close(); err != nil {
			c.blockFailed(d, err.Error())
		}
	} else {
		d.dec.Close() // drops a partial field; the state is unknown anyway
	}
	b := d.block
	d.block = blockState{}
	if b.failed {
		c.info.HeaderFailures[d.dir]++
	}
	switch {
	case b.typ == framePushPromise:
	case d.dir == ClientToServer:
		c.clientHeaders(&b, t)
	default:
		c.serverHeaders(&b, t)
	}
}

// emit receives a decoded header field of d's open block.
func (d *direction) emit(hf hpack.HeaderField) {
	b := &d.block
	b.size += len(hf.Name) + len(hf.Value)
	if b.size > maxBlockBytes {
		// Keep decoding (the dynamic table must stay in step) without reading more.
		d.dec.SetEmitEnabled(false)
		return
	}
	f := &b.fields
	switch hf.Name {
	case ":method":
		first(&f.method, hf.Value)
	case ":protocol":
		first(&f.protocol, hf.Value)
	case ":path":
		first(&f.path, hf.Value)
	case ":authority":
		first(&f.authority, hf.Value)
	case ":scheme":
		first(&f.scheme, hf.Value)
	case ":status":
		first(&f.status, hf.Value)
	case "origin":
		join(&f.origin, hf.Value)
	case "sec-websocket-version":
		join(&f.version, hf.Value)
	case "user-agent":
		first(&f.userAgent, hf.Value)
	case "sec-websocket-protocol":
		join(&f.protocols, hf.Value)
	case "sec-websocket-extensions":
		join(&f.extensions, hf.Value)
	}
}

// first sets *dst to v unless already set.
func first(dst *string, v string) {
	if *dst == "" {
		*dst = truncate(v)
	}
}

// join appends v to *dst with ", ".
func join(dst *string, v string) {
	if *dst == "" {
		*dst = truncate(v)
	} else if len(*dst) < maxValueLen {
		*dst = truncate(*dst + ", " + v)
	}
}

func truncate(v string) string {
	if len(v) > maxValueLen {
		return v[:maxValueLen]
	}
	return v
}

// clientHeaders acts on a header block the client sent: a request opening a stream, or
// trailers.
func (c *Conn) clientHeaders(b *blockState, t time.Time) {
	id := b.stream
	if s := c.streams[id]; s != nil {
		if b.endStream {
			c.endStreamFlag(ClientToServer, id, t)
		}
		return
	}
	if id%2 == 0 {
		c.problemf("client: HEADERS on even stream %d", id)
		return
	}
	if id <= c.lastClientID {
		return // trailers of a stream not followed, or a closed stream
	}
	c.lastClientID = id
	c.info.Streams++
	if b.failed {
		c.problemf("client: stream %d opened with a header block not decoded: not known whether it is a WebSocket", id)
		return
	}
	f := &b.fields
	if f.method != "CONNECT" || !strings.EqualFold(f.protocol, "websocket") {
		return
	}
	c.info.WebSocketStreams++
	if c.opts.Stream == nil {
		return
	}
	if len(c.streams) >= c.opts.MaxStreams {
		c.info.Untracked++
		c.problemf("client: WebSocket stream %d not followed: %d streams open", id, len(c.streams))
		return
	}
	si := &StreamInfo{
		ID: id, Time: t,
		Path: f.path, Authority: f.authority, Scheme: f.scheme,
		Origin: f.origin, Version: f.version, Protocols: f.protocols, Extensions: f.extensions, UserAgent: f.userAgent,
		ConnectEnabled: c.info.Settings[ServerToClient].EnableConnectProtocol,
		EndStream:      b.endStream,
	}
	sink := c.opts.Stream(si)
	if sink == nil {
		return
	}
	s := &stream{id: id, sink: sink, goAways: c.goAwayN}
	c.streams[id] = s
	if c.dirs[ServerToClient].lost {
		sink.Gap(ServerToClient, 0, t)
	}
	if b.endStream {
		c.endStreamFlag(ClientToServer, id, t)
	}
}

// serverHeaders acts on a header block the server sent: a response, or trailers.
func (c *Conn) serverHeaders(b *blockState, t time.Time) {
	s := c.streams[b.stream]
	if s == nil {
		return
	}
	r := &Response{EndStream: b.endStream, Undecoded: b.failed}
	if !b.failed {
		r.Status, _ = strconv.Atoi(b.fields.status)
		r.Protocol, r.Extensions = b.fields.protocols, b.fields.extensions
	}
	s.sink.Response(r, t)
	if b.endStream {
		c.endStreamFlag(ServerToClient, b.stream, t)
	}
}
