package cache

// LockCount is how many lock holdings m remembers, expired ones included
// until they are swept.
func LockCount(m *Memory) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.locks)
}
