package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenwire/tokenwire/internal/suites"
)

// Binary is the name of the server executable looked up on PATH.
const Binary = "redis-server"

// ErrNotInstalled is returned by [New] when redis-server is not on PATH.
var ErrNotInstalled = errors.New("redistest: redis-server not on PATH (" + suites.Redis.Install + ")")

// readyTimeout bounds how long a starting server may take to answer PING.
const readyTimeout = time.Minute

// Server is one redis-server (or redis-sentinel) process. Its methods are
// safe for concurrent use.
type Server struct {
	bin     string
	dir     string
	port    int
	tlsPort int      // 0: no TLS port
	ca      *CA      // certificates of the TLS port
	conf    string   // a configuration file given first (Sentinel's), kept across restarts
	args    []string // extra server arguments
	unhold  []func() // release the ports, held from pickPorts to Close (see holdPort)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// New starts a server on a free 127.0.0.1 port. args are added to the
// server's command line, e.g. "--cluster-enabled", "yes". The caller must
// Close the server.
func New(args ...string) (*Server, error) {
	return newServer(Binary, ErrNotInstalled, nil, nil, args)
}

// newServer starts bin (errMissing when it is not on PATH) in a new
// directory. writeConf, when not nil, writes the configuration file given
// first on the command line, once the port is known.
func newServer(bin string, errMissing error, ca *CA, writeConf func(dir string, port int) (string, error), args []string) (*Server, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, errMissing
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	s := &Server{bin: path, dir: dir, ca: ca, args: args}
	for attempt := 0; ; attempt++ {
		err = s.pickPorts()
		if err == nil && writeConf != nil {
			s.conf, err = writeConf(dir, s.port)
		}
		if err == nil {
			if err = s.start(); err == nil {
				return s, nil
			}
		}
		if attempt == 2 { // a port may have been taken meanwhile where it cannot be held
			s.releasePorts()
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
}

// pickPorts holds a free port, and a second one for TLS, until Close: no
// other listener is given them while the server is stopped or starting.
func (s *Server) pickPorts() (err error) {
	s.releasePorts() // an earlier attempt's
	if s.port, err = s.hold(); err != nil || s.ca == nil {
		return err
	}
	s.tlsPort, err = s.hold()
	return err
}

func (s *Server) hold() (int, error) {
	port, release, err := holdPort()
	if err != nil {
		return 0, err
	}
	s.unhold = append(s.unhold, release)
	return port, nil
}

func (s *Server) releasePorts() {
	for _, release := range s.unhold {
		release()
	}
	s.unhold = nil
}

// Start starts a server for the test, with args as for [New], and stops it
// when the test ends. It skips the test when redis-server is not installed,
// or fails it under CI (suites.Redis).
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	suites.Redis.Require(tb)
	return must(tb, suites.Redis)(New(args...))
}

// must returns a function that checks a constructor's result for the test:
// a binary gone since the suite's check skips it (or fails it under CI),
// any other error fails it, and a server is closed when the test ends.
func must(tb testing.TB, suite *suites.Suite) func(*Server, error) *Server {
	return func(s *Server, err error) *Server {
		tb.Helper()
		var missing notInstalled
		if errors.Is(err, ErrNotInstalled) || errors.As(err, &missing) {
			suite.Require(tb)
		}
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		return s
	}
}

// notInstalled is the error of a missing binary other than redis-server.
type notInstalled string

func (e notInstalled) Error() string { return "redistest: " + string(e) }

// Addr is the server's "127.0.0.1:port" address; it does not change across
// Stop and Restart.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// TLSAddr is the address of the TLS port of a server started by
// [StartTLS] or [NewTLS], "" for others.
func (s *Server) TLSAddr() string {
	if s.tlsPort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tlsPort))
}

// Dir is the server's working directory, which Stop and Restart keep.
func (s *Server) Dir() string { return s.dir }

// Stop kills the server (SIGKILL, as a crash would) and waits for it to
// exit. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

// Restart starts a stopped server again on the same port (a running one is
// stopped first) and waits until it answers PING. Data is not kept; a
// Cluster node's nodes.conf and a Sentinel's configuration are.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(); err != nil {
		return err
	}
	return s.startLocked()
}

// Pause stops the process (SIGSTOP): it keeps its connections and its
// data, and answers nothing until [Server.Resume].
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume lets a paused process run again (SIGCONT).
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("redistest: server not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("redistest: %s: %w", sig, err)
	}
	return nil
}

// Close stops the server, releases its ports and removes its directory.
func (s *Server) Close() error {
	err := s.Stop()
	s.mu.Lock()
	s.releasePorts()
	s.mu.Unlock()
	if rmErr := os.RemoveAll(s.dir); err == nil {
		err = rmErr
	}
	return err
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked()
}

func (s *Server) startLocked() error {
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	args = append(args, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	if s.ca != nil {
		args = append(args, "--tls-port", strconv.Itoa(s.tlsPort), "--tls-cert-file", s.ca.CertFile,
			"--tls-key-file", s.ca.KeyFile, "--tls-ca-cert-file", s.ca.CAFile, "--tls-auth-clients", "no")
	}
	args = append(args, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := waitReady(s.Addr(), done); err != nil {
		_ = s.stopLocked()
		return fmt.Errorf("redistest: %w; server output: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	select {
	case <-s.done:
	default:
		if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("redistest: kill: %w", err)
		}
		<-s.done
	}
	s.cmd, s.done = nil, nil
	return nil
}

// waitReady polls addr with PING until it answers (PONG, or NOAUTH from a
// server whose default user needs a password), the process exits or
// readyTimeout passes.
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if line, err := ping(addr); err == nil && (line == "+PONG" || strings.HasPrefix(line, "-NOAUTH")) {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited before answering PING")
		case <-deadline.C:
			return fmt.Errorf("redis-server did not answer PING within %s", readyTimeout)
		case <-tick.C:
		}
	}
}

// Ping sends PING to addr and reports whether PONG came back.
func Ping(addr string) error {
	line, err := ping(addr)
	if err != nil {
		return err
	}
	if line != "+PONG" {
		return fmt.Errorf("unexpected PING reply %q", line)
	}
	return nil
}

// ping sends PING to addr and returns the reply's first line.
func ping(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
