// Command wsclosescan reads packet captures and explains how every WebSocket connection in
// them ended: the close frames each side sent, who closed first, how TCP ended, what each
// side's WebSocket API reported, and whether the opening handshake failed and why.
package main

import "os"

func main() {
	os.Exit(runWith(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, interrupts()))
}
