package main

const usage = `Usage: wsclosescan [flags] FILE...
       wsclosescan --pair [-f json|jsonl] CLIENT.pcap SERVER.pcap
       wsclosescan explain [-f json] CODE...

Reads pcap and pcapng captures (also gzip-compressed; "-" is standard input) and prints,
for every WebSocket connection, how it ended: the close frame each side sent (code, reason,
time), who closed first, whether the closing handshake completed, how TCP ended (FIN or
RST, by whom), the close code each side's WebSocket API reported, and whether the opening
handshake completed or failed and why.

Verdicts:
  clean             both close frames were exchanged and each was received
  half_closed       one side's close frame was never answered or never received, then TCP ended
  abnormal          TCP ended (FIN/RST) with no close frame from either side: the 1006 drop
  handshake_failed  the upgrade was refused or a compliant client had to reject the 101
  open_at_end       the capture ended before the closing handshake completed

Output (flag values are case-insensitive):
  -f, --format FORMAT   table (default), json, jsonl, csv or markdown
      --order ORDER     start: by start time, then addresses; end: as connections end in
                        capture time (when wsclosescan lets them go: 10 s after a close, at
                        an idle timeout, or at the end of the capture), as Zeek's conn.log,
                        so that nothing is held back (default: end for jsonl, json and csv;
                        table and markdown are always by start)
  -t, --timeline        also draw each connection: a ladder with time and delta columns
                        (table), a Mermaid sequence diagram GitHub renders (markdown), a
                        "timeline" array per record (json, jsonl)
      --summary         instead of one row per connection, group them by verdict and cause
                        ("300 abnormal: no close frame, RST from the server after 60 s
                        idle") and count the codes each side's API reported (table,
                        markdown, json)
      --limit N         list at most N connections, the first in output order (--order;
                        with --summary, N causes); the summary still counts all of them
      --payloads        also show what each side said last: the type, size and time of its
                        last data message before the end, and its first 64 bytes (text) or
                        16 bytes in hex (binary), inflated when permessage-deflate is on.
                        Off by default: payloads are the application's data
      --no-redact       show query strings and token-like subprotocol values in table and
                        markdown output (hidden by default, to be safe to paste)
      --redact          hide them in json, jsonl and csv too (shown there by default)
      --color WHEN      colour the verdicts: auto (terminals only, honours NO_COLOR),
                        always or never (default auto)
      --progress WHEN   a progress line on stderr (bytes, connections, rate): auto
                        (when stderr is a terminal), always or never (default auto)

Selection (LIST: comma-separated, and the flag may be repeated):
      --verdict LIST    only connections with these verdicts (not_websocket implies --all)
      --code LIST       only connections where one of these close codes was sent or reported
                        (e.g. 1006,1011 or 4000-4999)
      --host LIST       only connections with one of these IP addresses or prefixes
                        (10.0.0.1, ::1, 10.0.0.0/8) on either end
      --port LIST       only connections with one of these ports or port ranges on either
                        end (with --host: on the same end)
  -a, --all             also list TCP connections that never became WebSocket connections

Input:
      --merge           analyse all FILEs as one capture (rotated sets written by tcpdump -C
                        or -G), in natural name order, so that a connection spanning files
                        is one connection
      --pair            compare two captures of the same traffic, CLIENT.pcap made at the
                        client and SERVER.pcap at the server (or behind a proxy): matches
                        connections by 4-tuple, else Sec-WebSocket-Key, else timing,
                        estimates the clock offset from the handshakes, and says per
                        connection what left one side and what arrived at the other (a
                        close frame lost or changed, a RST seen on one side only); lists
                        connections seen in one capture only
      --idle-hint DUR   silence before a TCP end from which an idle timeout is suggested
                        (default 1s)
      --keylog FILE     decrypt wss:// (TLS 1.2 and 1.3) with an NSS key log, as written by
                        SSLKEYLOGFILE=FILE (browsers), node --tls-keylog=FILE, Go's
                        tls.Config.KeyLogWriter or Python's keylog_filename; repeatable.
                        A pcapng with a Decryption Secrets Block (editcap --inject-secrets)
                        needs no flag. Key logs and such files hold secrets: never shared
                        by the tool, strip them with editcap --discard-all-secrets

Limits (see the README's table; each says so in the output when it is hit):
      --sort-window N   by start (--order start), finished records held back while an
                        earlier connection is still open; past it they are written as
                        they come, with a warning (default 4000, about 6 MB; the table is
                        always sorted; --order end holds nothing back)
      --sort-wait DUR   the same bound in capture time: a connection open for longer than
                        DUR stops holding back the records of later ones, so that live
                        input in start order is written as connections end (default: no
                        bound)
      --max-conns LIMIT connections tracked at once: a memory budget such as 4GiB (counting
                        about 4 KiB per connection and 200 B per half-open one that only
                        exchanged SYNs) or a count such as 100000 (default 4GiB: about a
                        million open connections). Past it one is released early, with a
                        warning: a closed one, else a half-open one, else an old one that
                        never carried a byte, else one that never became WebSocket, else the
                        one idle the longest; its later packets are not analysed, and its
                        record says so
      --idle-timeout DUR
                        release a connection silent for this long in capture time, as it
                        stands (default: never)
      --max-buffer SIZE out-of-order bytes buffered in total (default 64MiB)
      --max-conn-buffer SIZE
                        out-of-order bytes buffered per connection (default 4MiB)

Exit status:
      --fail-on LIST    exit 1 if any listed connection has one of these verdicts, e.g.
                        --fail-on abnormal,handshake_failed,half_closed
  0 otherwise, also after Ctrl-C (SIGINT or SIGTERM prints the report of what was read,
  connections still open as open_at_end); 2 for a usage error or a file that cannot be
  read at all (the other files are still analysed; when none can be, nothing is printed
  but the errors). Warnings (truncated files, skipped packets) never change it.

Other:
      --version         print the version and exit
      --cpuprofile FILE write a CPU profile of the run to FILE, for go tool pprof
      --memprofile FILE write a heap profile to FILE once the capture is read, before the
                        connections still open are let go (what they hold), for go tool
                        pprof -sample_index=inuse_space
  -h, --help            print this help

Examples:
  wsclosescan capture.pcap
  tcpdump -i any -s 0 -w - 'tcp port 8080' | wsclosescan -
  tcpdump -i any -U -w - 'tcp port 443' | wsclosescan -f jsonl -
  wsclosescan --summary --format markdown big.pcap     # paste into an issue
  wsclosescan --timeline --verdict abnormal,half_closed capture.pcapng
  SSLKEYLOGFILE=keys.txt chromium &   # then: wsclosescan --keylog keys.txt wss.pcap
  wsclosescan --format json capture.pcap.gz > connections.json
  wsclosescan --merge --fail-on abnormal,handshake_failed /var/tmp/ws.pcap*
  wsclosescan --pair laptop.pcap server.pcap     # the same connections, seen at both ends
  wsclosescan explain 1006
  wsclosescan explain -f json 1000 1006 4001
`
