//go:build !race

package redis_test

// soakRace: the race detector is on.
const soakRace = false
