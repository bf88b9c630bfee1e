//go:build !linux

package oauthclient

import "os/exec"

// runInGroup runs cmd; the fetch's context kills cmd alone (process groups
// are used on Linux only).
func runInGroup(cmd *exec.Cmd) error { return cmd.Run() }
