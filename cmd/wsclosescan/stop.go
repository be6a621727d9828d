package main

import (
	"io"
	"os"
	"os/signal"
	"syscall"
)

// interrupts returns a channel closed at the first SIGINT or SIGTERM. After it the
// signals get their default action again, so a second Ctrl-C ends the program at once.
func interrupts() <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	go func() {
		<-sig
		signal.Stop(sig)
		close(stop)
	}()
	return stop
}

// stopped reports whether stop has been closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// stopReader ends its source with io.EOF once stop is closed, so that the capture read so
// far is analysed and reported. A read that may wait for data (a pipe, a terminal) runs
// on a goroutine of its own, so that the stop does not wait for the next packet; the
// goroutine is left blocked in that read, as the program is about to exit.
type stopReader struct {
	src   io.Reader
	stop  <-chan struct{}
	block bool // the source may block: read on the goroutine
	done  bool
	buf   []byte
	busy  bool // a read into buf is in flight
	req   chan int
	res   chan readResult
}

type readResult struct {
	n   int
	err error
}

func newStopReader(src io.Reader, stop <-chan struct{}) *stopReader {
	s := &stopReader{src: src, stop: stop, block: true}
	if f, ok := src.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			s.block = false
		}
	}
	return s
}

func (s *stopReader) Read(p []byte) (int, error) {
	if s.done || stopped(s.stop) {
		s.done = true
		return 0, io.EOF
	}
	if !s.block {
		return s.src.Read(p)
	}
	if s.req == nil {
		s.buf = make([]byte, 64<<10)
		s.req, s.res = make(chan int), make(chan readResult, 1)
		go func() {
			for n := range s.req {
				k, err := s.src.Read(s.buf[:n])
				s.res <- readResult{k, err}
			}
		}()
	}
	if !s.busy {
		s.req <- min(len(p), len(s.buf))
		s.busy = true
	}
	select {
	case r := <-s.res:
		s.busy = false
		return copy(p, s.buf[:r.n]), r.err
	case <-s.stop:
		s.done = true
		return 0, io.EOF
	}
}
