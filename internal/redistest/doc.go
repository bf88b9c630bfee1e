// Package redistest runs real Redis servers for tests: on free loopback
// ports, in temporary directories, without persistence, killed when the
// test (or the test binary) ends.
//
// A test that needs Redis calls [Start]; a package whose tests share one
// server starts it in TestMain with [New] and closes it after m.Run. When
// redis-server is not on PATH, [Start] skips the test with a message naming
// the package to install, and [New] returns [ErrNotInstalled]. With the
// environment variable CI set, a missing binary fails the test instead:
// CI installs them and must never pass by skipping. Which binaries each
// topology needs, and the messages, are package internal/suites's
// (suites.Redis, suites.Sentinel, suites.Cluster).
//
//	srv := redistest.Start(t)
//	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
//
// Faults: [Server.Stop] kills the server (SIGKILL) and [Server.Restart]
// brings it back on the same port; [Server.Pause] and [Server.Resume]
// freeze and thaw it (SIGSTOP, SIGCONT) with its connections open. A
// server's ports are held from its start to Close, so a stopped server's
// address refuses: no other listener, in this process or another test
// binary, is given its port meanwhile.
//
// Topologies:
//
//   - Extra arguments configure the server, e.g. Start(t, "--cluster-enabled",
//     "yes") for a one-node Cluster, or "--user", … for ACL users.
//   - [NewCA] generates a CA and a server certificate for 127.0.0.1;
//     [StartTLS] serves them on a TLS port ([Server.TLSAddr]).
//   - [StartSentinels] runs a master, a replica and three Sentinels
//     (redis-sentinel) that fail the master over a second after it dies.
//   - [StartCluster] runs masters with replicas joined by
//     redis-cli --cluster create (redis-tools), failed over a second after
//     a master dies.
package redistest
