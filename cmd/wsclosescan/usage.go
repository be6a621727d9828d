package main

const usage = `Usage: wsclosescan [flags] FILE...
       wsclosescan explain CODE

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

Output:
  -f, --format FORMAT   table (default), json, jsonl, csv or markdown
  -t, --timeline        also print a ladder diagram of each connection (with table/markdown;
                        with json/jsonl each record gets a "timeline" array)
      --color WHEN      colour the verdicts: auto (terminals only, honours NO_COLOR),
                        always or never (default auto)

Selection:
      --verdict LIST    only connections with these verdicts (comma-separated)
      --code LIST       only connections where one of these close codes was sent or reported
                        (e.g. 1006,1011)
      --host ADDR       only connections with this IP address on either end
      --port N          only connections with this port on either end
  -a, --all             also list TCP connections that never became WebSocket connections

Input:
      --merge           analyse all FILEs as one capture (rotated sets written by tcpdump -C
                        or -G), in natural name order, so that a connection spanning files
                        is one connection
      --idle-hint DUR   silence before a TCP end from which an idle timeout is suggested
                        (default 1s)
      --keylog FILE     decrypt wss:// (TLS 1.2 and 1.3) with an NSS key log, as written by
                        SSLKEYLOGFILE=FILE (browsers), node --tls-keylog=FILE, Go's
                        tls.Config.KeyLogWriter or Python's keylog_filename; repeatable.
                        A pcapng with a Decryption Secrets Block (editcap --inject-secrets)
                        needs no flag. Key logs and such files hold secrets: never shared
                        by the tool, strip them with editcap --discard-all-secrets

Limits (see the README's table; each says so in the output when it is hit):
      --sort-window N   finished records held back so that output is in start-time order
                        while an earlier connection is still open; past it they are
                        written as they come, with a warning (default 4000, about 6 MB;
                        the table is always sorted)
      --max-conns N     connections tracked at once; past it the one idle the longest is
                        released early, with a warning (default 250000, about 3.9 KB each)
      --idle-timeout DUR
                        release a connection silent for this long in capture time, as it
                        stands (default: never)
      --max-buffer SIZE out-of-order bytes buffered in total (default 64MiB)
      --max-conn-buffer SIZE
                        out-of-order bytes buffered per connection (default 4MiB)

Exit status:
      --fail-on LIST    exit 1 if any listed connection has one of these verdicts, e.g.
                        --fail-on abnormal,handshake_failed,half_closed
  0 otherwise; 2 for a usage error or a file that cannot be read at all (the other files
  are still analysed). Warnings (truncated files, skipped packets) never change it.

Other:
      --version         print the version and exit
      --cpuprofile FILE write a CPU profile of the run to FILE, for go tool pprof
  -h, --help            print this help

Examples:
  wsclosescan capture.pcap
  tcpdump -i any -s 0 -w - 'tcp port 8080' | wsclosescan -
  wsclosescan --timeline --verdict abnormal,half_closed capture.pcapng
  SSLKEYLOGFILE=keys.txt chromium &   # then: wsclosescan --keylog keys.txt wss.pcap
  wsclosescan --format json capture.pcap.gz > connections.json
  wsclosescan --merge --fail-on abnormal,handshake_failed /var/tmp/ws.pcap*
  wsclosescan explain 1006
`
