package redact

import "strings"

// occurrences returns, for each needle, where it starts in hay, in
// ascending order, overlapping occurrences included; false when there are
// more than limit in all. The needles are searched for at once, in one
// pass over hay (Aho-Corasick), so that the cost is that of hay and of
// the matches, not of hay once per needle.
func occurrences(hay string, needles []string, limit int) ([][]int, bool) {
	occ := make([][]int, len(needles))
	n := 0
	m := newMatcher(needles)
	state := 0
	for i := 0; i < len(hay); i++ {
		state = m.step(state, hay[i])
		for o := state; o > 0; o = m.nodes[o].dict {
			for _, k := range m.nodes[o].ends {
				occ[k] = append(occ[k], i+1-len(needles[k]))
				n++
			}
		}
		if n > limit {
			return nil, false
		}
	}
	return occ, true
}

// each calls f with where needle starts in hay, in ascending order,
// overlapping occurrences included.
func each(hay, needle string, f func(int)) {
	for i := 0; i <= len(hay)-len(needle); i++ {
		j := strings.Index(hay[i:], needle)
		if j < 0 {
			return
		}
		i += j
		f(i)
	}
}

// matcher is an Aho-Corasick automaton over bytes.
type matcher struct{ nodes []node }

type node struct {
	next map[byte]int
	fail int   // the longest proper suffix that is a prefix of a needle
	dict int   // the nearest node along fail that ends needles, or 0
	ends []int // the needles that end here
}

func newMatcher(needles []string) *matcher {
	m := &matcher{nodes: []node{{}}}
	for k, n := range needles {
		at := 0
		for i := 0; i < len(n); i++ {
			nx, ok := m.nodes[at].next[n[i]]
			if !ok {
				if m.nodes[at].next == nil {
					m.nodes[at].next = map[byte]int{}
				}
				nx = len(m.nodes)
				m.nodes[at].next[n[i]] = nx
				m.nodes = append(m.nodes, node{})
			}
			at = nx
		}
		m.nodes[at].ends = append(m.nodes[at].ends, k)
	}
	queue := []int{}
	for _, nx := range m.nodes[0].next {
		queue = append(queue, nx) // depth 1: fail to the root
	}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		for c, nx := range m.nodes[at].next {
			f := m.step(m.nodes[at].fail, c)
			m.nodes[nx].fail = f
			if len(m.nodes[f].ends) > 0 {
				m.nodes[nx].dict = f
			} else {
				m.nodes[nx].dict = m.nodes[f].dict
			}
			queue = append(queue, nx)
		}
	}
	return m
}

// step is the state after reading c in state at.
func (m *matcher) step(at int, c byte) int {
	for {
		if nx, ok := m.nodes[at].next[c]; ok {
			return nx
		}
		if at == 0 {
			return 0
		}
		at = m.nodes[at].fail
	}
}
