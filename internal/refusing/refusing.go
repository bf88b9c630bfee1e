// Package refusing gives tests an address on 127.0.0.1 that refuses every
// connection for as long as the test runs.
//
// Closing a test server and dialling its old address is not enough: the
// next listener in the process, or in another package's test binary, may
// be given the same port and answer. An address from URL stays reserved
// until the test ends. It is test support only: a failure fails the test
// through testing.TB.
package refusing

import (
	"fmt"
	"testing"
)

// URL returns "http://127.0.0.1:PORT", where a connection is refused until
// tb ends.
func URL(tb testing.TB) string {
	tb.Helper()
	return fmt.Sprintf("http://127.0.0.1:%d", port(tb))
}
