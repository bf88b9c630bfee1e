package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tokenwire/tokenwire/internal/suites"
)

// CLIBinary is the Redis command-line client, which creates clusters.
const CLIBinary = "redis-cli"

// Cluster is a Redis Cluster of masters with replicas on loopback.
type Cluster struct {
	Nodes []*Server // as started; which are masters changes on failover
	cli   string
}

// StartCluster starts masters*(1+replicas) nodes for the test, joins them
// with redis-cli --cluster create and waits until every node sees the
// cluster as ok and every replica is in sync with its master. A node that
// misses its peers for a second is failed over (cluster-node-timeout
// 1000). It skips the test when redis-server or redis-cli is not
// installed, or fails it under CI (suites.Cluster); every node is stopped
// when the test ends.
func StartCluster(tb testing.TB, masters, replicas int) *Cluster {
	tb.Helper()
	suites.Cluster.Require(tb)
	cli, err := exec.LookPath(CLIBinary)
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{cli: cli}
	for range masters * (1 + replicas) {
		c.Nodes = append(c.Nodes, Start(tb, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := c.CLI(ctx, args...); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.Settle(ctx); err != nil {
		tb.Fatalf("redistest: cluster did not settle: %v", err)
	}
	return c
}

// Addrs are the addresses of all nodes, for a Cluster client's seed list.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Node returns the node listening on addr, or nil.
func (c *Cluster) Node(addr string) *Server {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// CLI runs redis-cli with args and returns its combined output.
func (c *Cluster) CLI(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, c.cli, args...).CombinedOutput()
	return string(out), err
}

// Settle waits until every running node reports cluster_state:ok and
// agrees with the others on which node serves each slot, and every
// running replica's link to its master is up.
func (c *Cluster) Settle(ctx context.Context) error {
	_, err := poll(ctx, func() (string, error) {
		var first string
		for _, n := range c.Nodes {
			if Ping(n.Addr()) != nil {
				continue // stopped
			}
			state, err := infoCluster(ctx, n.Addr())
			if err != nil {
				return "", err
			}
			if state != "ok" {
				return "", fmt.Errorf("%s: cluster_state %s", n.Addr(), state)
			}
			slots, err := slotMap(ctx, n.Addr())
			if err != nil {
				return "", err
			}
			if first == "" {
				first = slots
			} else if slots != first {
				return "", fmt.Errorf("%s sees another slot map", n.Addr())
			}
			if role, err := infoField(ctx, n.Addr(), "replication", "role"); err != nil {
				return "", err
			} else if role == "slave" {
				if err := replicaInSync(ctx, n.Addr()); err != nil {
					return "", err
				}
			}
		}
		return "", nil
	})
	return err
}

// MasterOf returns the address of the master serving slot, as the node at
// via sees it.
func MasterOf(ctx context.Context, via string, slot int) (string, error) {
	cl := goredis.NewClient(&goredis.Options{Addr: via, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer cl.Close()
	ranges, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("%s: CLUSTER SLOTS: %w", via, err)
	}
	for _, r := range ranges {
		if r.Start <= slot && slot <= r.End && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("%s: no node serves slot %d", via, slot)
}

func infoCluster(ctx context.Context, addr string) (string, error) {
	cl := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer cl.Close()
	info, err := cl.ClusterInfo(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("%s: CLUSTER INFO: %w", addr, err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: CLUSTER INFO has no cluster_state", addr)
}

// slotMap describes which master serves which slots, as addr sees it.
func slotMap(ctx context.Context, addr string) (string, error) {
	cl := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer cl.Close()
	ranges, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("%s: CLUSTER SLOTS: %w", addr, err)
	}
	var b strings.Builder
	slices.SortFunc(ranges, func(a, b goredis.ClusterSlot) int { return a.Start - b.Start })
	for _, r := range ranges {
		if len(r.Nodes) > 0 {
			fmt.Fprintf(&b, "%d-%d:%s ", r.Start, r.End, r.Nodes[0].Addr)
		}
	}
	return b.String(), nil
}
