// Package redistest runs a real redis-server for tests: on a free loopback
// port, in a temporary directory, without persistence, killed when the test
// (or the test binary) ends.
//
// A test that needs Redis calls [Start]; a package whose tests share one
// server starts it in TestMain with [New] and closes it after m.Run. When
// redis-server is not on PATH, [Start] skips the test with a message naming
// the package to install, and [New] returns [ErrNotInstalled].
//
//	srv := redistest.Start(t)
//	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
//
// [Server.Stop] and [Server.Restart] take the server down and bring it back
// on the same port, for outage tests. Extra arguments configure the server,
// e.g. Start(t, "--cluster-enabled", "yes") for a one-node Cluster (whose
// slots the test then assigns with CLUSTER ADDSLOTSRANGE 0 16383).
package redistest
