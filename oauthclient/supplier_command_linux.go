package oauthclient

import (
	"os"
	"os/exec"
	"sync"
	"syscall"
	"unsafe"
)

// runInGroup runs cmd in a process group of its own. A cancelled context
// kills the group; once cmd has exited, what is left of the group (a child
// started in the background) is killed too. The group's id is cmd's pid,
// which stays cmd's until cmd is reaped: the group is killed only before
// that, so no other process can be hit.
func runInGroup(cmd *exec.Cmd) error {
	var mu sync.Mutex
	reaping := false
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		mu.Lock()
		defer mu.Unlock()
		if reaping {
			return os.ErrProcessDone
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := waitExited(cmd.Process.Pid)
	mu.Lock()
	if exited {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH when nothing is left
	}
	reaping = true
	mu.Unlock()
	return cmd.Wait()
}

// waitExited waits until the process pid has exited, without reaping it
// (waitid with WNOWAIT), and reports whether it could tell.
func waitExited(pid int) bool {
	const pPID = 1
	var info [128]byte // siginfo_t
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info)),
			syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if e != syscall.EINTR {
			return e == 0
		}
	}
}
