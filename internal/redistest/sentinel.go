package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tokenwire/tokenwire/internal/suites"
)

// SentinelBinary is the Sentinel executable looked up on PATH.
const SentinelBinary = "redis-sentinel"

// MasterName is the name under which a [Sentinels] set monitors its
// master.
const MasterName = "tokenwire"

// Timings of a Sentinel set: a master that has not answered for
// sentinelDownAfter is subjectively down; a failover that did not complete
// within sentinelFailoverTimeout is tried again. settleTimeout is a
// failsafe: a set settles when its replica has synced and its Sentinels
// have found one another (their hellos every 2 s, INFO every 10 s), which
// a busy machine delays but does not prevent.
const (
	sentinelDownAfter       = time.Second
	sentinelFailoverTimeout = 10 * time.Second
	settleTimeout           = 2 * time.Minute
)

// Sentinels is a master, its replica and three Sentinels monitoring them
// (quorum two), all on loopback, for failover tests.
type Sentinels struct {
	// Master and Replica are the servers as started: after a failover the
	// Replica is the master (see [Sentinels.MasterAddr]).
	Master, Replica *Server
	Sentinels       []*Server
}

// StartSentinels starts a Sentinel set for the test and waits until the
// Sentinels know the replica and each other, so that a failover can be
// elected. It skips the test when redis-server or redis-sentinel is not
// installed, or fails it under CI (suites.Sentinel); everything is stopped
// when the test ends.
func StartSentinels(tb testing.TB) *Sentinels {
	tb.Helper()
	suites.Sentinel.Require(tb)
	s := &Sentinels{Master: Start(tb)}
	s.Replica = Start(tb, "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.port))
	for range 3 {
		writeConf := func(dir string, port int) (string, error) {
			path := filepath.Join(dir, "sentinel.conf")
			conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\n"+
				"sentinel down-after-milliseconds %[1]s %[3]d\n"+
				"sentinel failover-timeout %[1]s %[4]d\n"+
				"sentinel parallel-syncs %[1]s 1\n",
				MasterName, s.Master.port, sentinelDownAfter.Milliseconds(), sentinelFailoverTimeout.Milliseconds())
			return path, os.WriteFile(path, []byte(conf), 0o600)
		}
		srv := must(tb, suites.Sentinel)(newServer(SentinelBinary, notInstalled(SentinelBinary+" not on PATH"), nil, writeConf, nil))
		s.Sentinels = append(s.Sentinels, srv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := s.settle(ctx); err != nil {
		tb.Fatalf("redistest: Sentinel set did not settle: %v", err)
	}
	return s
}

// Addrs are the Sentinels' addresses, for a client's sentinel list.
func (s *Sentinels) Addrs() []string {
	addrs := make([]string, len(s.Sentinels))
	for i, srv := range s.Sentinels {
		addrs[i] = srv.Addr()
	}
	return addrs
}

// MasterAddr is the master's address as every Sentinel names it, or an
// error when they do not agree (yet).
func (s *Sentinels) MasterAddr(ctx context.Context) (string, error) {
	var addr string
	for _, srv := range s.Sentinels {
		c := goredis.NewSentinelClient(&goredis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
		hp, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		_ = c.Close()
		if err != nil {
			return "", fmt.Errorf("sentinel %s: %w", srv.Addr(), err)
		}
		a := strings.Join(hp, ":")
		if addr != "" && a != addr {
			return "", fmt.Errorf("sentinels disagree: %s and %s", addr, a)
		}
		addr = a
	}
	return addr, nil
}

// WaitFailover waits until every Sentinel names a master other than old,
// and that server says it is a master, and returns its address.
func (s *Sentinels) WaitFailover(ctx context.Context, old string) (string, error) {
	return poll(ctx, func() (string, error) {
		addr, err := s.MasterAddr(ctx)
		if err != nil {
			return "", err
		}
		if addr == old {
			return "", errors.New("the Sentinels still name " + old)
		}
		if err := isMaster(ctx, addr); err != nil {
			return "", err
		}
		return addr, nil
	})
}

// settle waits until the replica is in sync and every Sentinel knows the
// master, the replica and the two other Sentinels.
func (s *Sentinels) settle(ctx context.Context) error {
	_, err := poll(ctx, func() (string, error) {
		if err := replicaInSync(ctx, s.Replica.Addr()); err != nil {
			return "", err
		}
		for _, srv := range s.Sentinels {
			c := goredis.NewSentinelClient(&goredis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
			others, err := c.Sentinels(ctx, MasterName).Result()
			if err == nil && len(others) != len(s.Sentinels)-1 {
				err = fmt.Errorf("sentinel %s knows %d other Sentinels", srv.Addr(), len(others))
			}
			var replicas []map[string]string
			if err == nil {
				replicas, err = c.Replicas(ctx, MasterName).Result()
			}
			_ = c.Close()
			if err == nil && (len(replicas) != 1 || replicas[0]["flags"] != "slave") {
				err = fmt.Errorf("sentinel %s sees replicas %v", srv.Addr(), replicas)
			}
			if err != nil {
				return "", err
			}
		}
		return "", nil
	})
	return err
}

// replicaInSync reports an error unless the server at addr is a replica
// whose link to its master is up.
func replicaInSync(ctx context.Context, addr string) error {
	info, err := infoField(ctx, addr, "replication", "master_link_status")
	if err != nil {
		return err
	}
	if info != "up" {
		return fmt.Errorf("replica %s: master_link_status %q", addr, info)
	}
	return nil
}

// isMaster reports an error unless the server at addr has the master role.
func isMaster(ctx context.Context, addr string) error {
	role, err := infoField(ctx, addr, "replication", "role")
	if err != nil {
		return err
	}
	if role != "master" {
		return fmt.Errorf("%s: role %q", addr, role)
	}
	return nil
}

// infoField returns one field of a section of INFO from the server at
// addr.
func infoField(ctx context.Context, addr, section, field string) (string, error) {
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		return "", fmt.Errorf("%s: INFO %s: %w", addr, section, err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: INFO %s has no %s", addr, section, field)
}

// poll calls f every 20ms until it succeeds or ctx ends; it then returns
// f's last error.
func poll(ctx context.Context, f func() (string, error)) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}
