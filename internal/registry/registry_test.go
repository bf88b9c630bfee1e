package registry

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMap(t *testing.T) {
	var m Map[int]
	_, ok := m.Get("a")
	assert.False(t, ok)
	assert.Nil(t, m.Names())
	_, replaced, _ := m.Put("b", 1)
	assert.False(t, replaced)
	old, replaced, _ := m.Put("b", 2)
	assert.True(t, replaced)
	assert.Equal(t, 1, old)
	m.Put("a", 3)
	assert.Equal(t, []string{"a", "b"}, m.Names())
	old, removed := m.Delete("a")
	assert.True(t, removed)
	assert.Equal(t, 3, old)
	_, removed = m.Delete("a")
	assert.False(t, removed)
	assert.Equal(t, map[string]int{"b": 2}, m.Close())
	assert.Nil(t, m.Close())
	_, _, closed := m.Put("c", 4)
	assert.True(t, closed)
	_, ok = m.Get("b")
	assert.False(t, ok)
}

func TestMapConcurrent(t *testing.T) {
	var m Map[int]
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				name := strconv.Itoa(i % 10)
				m.Put(name, g)
				m.Get(name)
				m.Names()
				if i%3 == 0 {
					m.Delete(name)
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, len(m.Names()), 10)
}
