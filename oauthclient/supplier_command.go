package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// CommandSupplier runs name with args each time it is asked (bounded by
// the fetch's context) and supplies its standard output without
// surrounding white space: for a credential helper such as "gcloud auth
// print-identity-token".
//
// The command is bounded: its standard output and its standard error may
// each hold at most 64 KiB; a command that prints more is stopped at once
// (not read to the end) and the fetch fails, saying which stream was too
// large. A command still running when the fetch's context ends (the
// definition's Timeout) is killed. On Linux the command runs in a process
// group of its own, and the whole group is killed when the command is
// stopped and as soon as it exits, so that no child it started (in the
// background, too) outlives it; a helper that must leave a daemon behind
// starts it in a session of its own (setsid).
//
// The arguments are never printed: they are taken for secrets. A failure
// reports the exit status and the first line of the command's standard
// error, from which every argument and the output are blanked (as they
// are, quoted, URL-, JSON-, HTML- or base64-encoded), and anything that
// looks like a JWT.
func CommandSupplier(name string, args ...string) Supplier {
	a := append([]string(nil), args...)
	return commandSupplier{name: name, args: &a}
}

type commandSupplier struct {
	name string
	args *[]string // behind a pointer: no fmt verb, not even %p, reaches them
}

// errTooLarge stops a command whose output passes maxSupplied.
var errTooLarge = errors.New("larger than 64 KiB; the command was stopped")

func (s commandSupplier) Supply(ctx context.Context) (string, time.Time, error) {
	out, errOut, err := s.run(ctx)
	v := strings.TrimSpace(string(out.buf))
	switch {
	case out.err != nil:
		return "", time.Time{}, fmt.Errorf("command %s: standard output %w", s.name, out.err)
	case errOut.err != nil:
		return "", time.Time{}, fmt.Errorf("command %s: standard error %w", s.name, errOut.err)
	case ctx.Err() != nil:
		return "", time.Time{}, fmt.Errorf("command %s: stopped: %w", s.name, context.Cause(ctx))
	case err != nil:
		if msg := s.excerpt(string(errOut.buf), v); msg != "" {
			return "", time.Time{}, fmt.Errorf("command %s: %w: %s", s.name, err, msg)
		}
		return "", time.Time{}, fmt.Errorf("command %s: %w", s.name, err)
	case v == "":
		return "", time.Time{}, fmt.Errorf("command %s: no output", s.name)
	}
	return v, time.Time{}, nil
}

// run runs the command with both streams bounded: the first stream to
// pass its bound stops the command.
func (s commandSupplier) run(ctx context.Context) (out, errOut *boundedWriter, err error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	out, errOut = &boundedWriter{stop: stop}, &boundedWriter{stop: stop}
	cmd := exec.CommandContext(ctx, s.name, *s.args...)
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.WaitDelay = time.Second // a child that keeps the pipes open cannot hang the fetch
	return out, errOut, runInGroup(cmd)
}

// excerpt is the first line of what the command printed on its standard
// error, without its arguments, its output or anything like a JWT.
func (s commandSupplier) excerpt(stderr, out string) string {
	secrets := append([]string{out}, *s.args...)
	msg := firstLine(replaceSecrets(stderr, secrets)) // an argument may span lines
	return jwtLike.ReplaceAllString(scrub(msg, secrets), redact.Mark)
}

func (s commandSupplier) String() string {
	return fmt.Sprintf("command(%s, %d args)", s.name, len(*s.args))
}
func (s commandSupplier) Format(f fmt.State, _ rune)   { redact.Format(f, s.String()) }
func (s commandSupplier) GoString() string             { return s.String() }
func (s commandSupplier) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
func (s commandSupplier) MarshalYAML() (any, error)    { return s.String(), nil }
func (s commandSupplier) LogValue() slog.Value         { return slog.StringValue(s.String()) }

// jwtLike matches what looks like a JWT (or any long base64url run).
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9._-]*|[A-Za-z0-9_-]{40,}`)

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// boundedWriter keeps what a command prints, up to maxSupplied bytes; a
// write past the bound fails and stops the command. It has no ReadFrom on
// purpose: os/exec's copy must go through Write.
type boundedWriter struct {
	buf  []byte
	err  error
	stop context.CancelFunc
}

func (w *boundedWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(w.buf)+len(p) > maxSupplied {
		w.err = errTooLarge
		w.stop()
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
