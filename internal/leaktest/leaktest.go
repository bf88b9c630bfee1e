// Package leaktest tells which goroutines a call left running, for tests
// that check a call starts none.
package leaktest

import (
	"runtime"
	"strings"
)

// Started calls f and returns the stacks of the goroutines running
// tokenwire code after it that were not running before it.
func Started(f func()) []string {
	before := ours()
	f()
	var out []string
	for id, stack := range ours() {
		if _, ok := before[id]; !ok {
			out = append(out, stack)
		}
	}
	return out
}

// ours returns, by goroutine header ("goroutine 7"), the stacks that run
// tokenwire code, but for the caller's.
func ours() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the goroutine calling runtime.Stack
			continue
		}
		id, _, _ := strings.Cut(g, " [")
		if strings.Contains(g, "tokenwire/tokenwire/") {
			out[id] = g
		}
	}
	return out
}
