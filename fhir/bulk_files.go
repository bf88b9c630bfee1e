package fhir

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// ExportLineError is a line of an output file that could not be used: too
// long ([ErrBodyTooLarge]) or not a resource of the wanted type (a
// *[DecodeError]). It goes to the [ExportBadLine] function, and
// the iteration goes on with the next line; without one, it ends the
// iteration like any failure. It names the file (without query values)
// and the line, never the line's content.
type ExportLineError struct {
	Conn string // connection name
	URL  string // the file's URL, query values redacted
	Line int    // from 1
	Err  error
}

func (e *ExportLineError) Error() string {
	return fmt.Sprintf("fhir: %s: export file %s line %d: %v", e.Conn, excerpt(e.URL, maxShownURL), e.Line, e.Err)
}

// Unwrap returns the cause.
func (e *ExportLineError) Unwrap() error { return e.Err }

// ExportIssue is one issue of an OperationOutcome in an error file.
type ExportIssue struct {
	Issue
	Line int // the line of the file, from 1
	// Outcome is the decoded resource, shared by the issues of its line;
	// nil when it does not fit the model (an issue code unknown to it).
	Outcome *models.OperationOutcome
}

// ExportFile streams the resources of one output file of m (from
// m.Output or m.Deleted) decoded as T, at constant memory: the file is
// read line by line, never whole.
//
// An error yielded by ExportFile is always the end of the file: the
// download failed (a 4xx, a 5xx or a network failure after the retries,
// a cancelled context), the server broke the protocol ([ErrBulkProtocol])
// or, unless an [ExportBadLine] function is given, a line could
// not be used (an *[ExportLineError]). No value follows it, so the only
// right answer to it is to stop and report the failure — a "log and
// continue" would turn a failed download into a shorter file. To go on
// past lines that do not decode as T, or are longer than [ExportMaxLine],
// pass [ExportBadLine]: such lines go there, never to the loop.
//
// What yields nothing is bounded too, so that a server sending without end
// never keeps the loop from its consumer: blank lines are skipped, but no
// more than [ExportMaxLine] bytes of them in a row, and a line longer
// than twice that (one without end) is not read to its end; either ends
// the iteration with an error wrapping [ErrBulkProtocol]. A download cut
// short, or answered 429 or 5xx, is retried ([ExportRetries]) and resumed
// after the last complete line, so no resource is yielded twice or lost.
//
// The file is downloaded with the connection's token when
// m.RequiresAccessToken is set, and only then: such a file must be on the
// base URL's origin ([ErrCrossOrigin], nothing is sent); other files are
// downloaded by a client without credentials ([ExportFileClient]).
//
//	skip := fhir.ExportBadLine(func(bad *fhir.ExportLineError) { log.Print(bad) })
//	for p, err := range fhir.ExportFile[models.Patient](ctx, conn, m, f, skip) {
//		if err != nil {
//			return err // the download failed: never "continue"
//		}
//		…
//	}
func ExportFile[T any](ctx context.Context, c *Conn, m *Manifest, f OutputFile, opts ...ExportOption) iter.Seq2[*T, error] {
	return exportDecode(ctx, c, m, f, opts, func(_ int, line []byte) (*T, error) { return decode[T](line, c.dec) })
}

// ExportResources is [ExportFile] decoding each line by dispatch on its
// resourceType, as [DecodeResource] does.
func (c *Conn) ExportResources(ctx context.Context, m *Manifest, f OutputFile, opts ...ExportOption) iter.Seq2[any, error] {
	return exportDecode(ctx, c, m, f, opts, func(_ int, line []byte) (any, error) { return decodeResource(line, c.dec) })
}

// ExportLines is [ExportFile] without decoding: it yields each non-blank
// line as it is (without its line end), in a buffer reused for the next
// line — copy what you keep. For storing the files unchanged. Only a line
// longer than [ExportMaxLine] is a bad line.
func (c *Conn) ExportLines(ctx context.Context, m *Manifest, f OutputFile, opts ...ExportOption) iter.Seq2[[]byte, error] {
	return exportDecode(ctx, c, m, f, opts, func(_ int, line []byte) ([]byte, error) { return line, nil })
}

// ExportIssues streams the issues of an error file (m.Error): one
// OperationOutcome per line, each issue yielded with its line and
// resource. Bad lines (not an OperationOutcome with issues) and failures
// are as for [ExportFile].
func (c *Conn) ExportIssues(ctx context.Context, m *Manifest, f OutputFile, opts ...ExportOption) iter.Seq2[ExportIssue, error] {
	outcomes := exportDecode(ctx, c, m, f, opts, outcomeIssues)
	return func(yield func(ExportIssue, error) bool) {
		for issues, err := range outcomes {
			if err != nil {
				yield(ExportIssue{}, err) // the end: outcomes yields nothing more
				return
			}
			for _, is := range issues {
				if !yield(is, nil) {
					return
				}
			}
		}
	}
}

// outcomeIssues decodes one line of an error file.
func outcomeIssues(n int, line []byte) ([]ExportIssue, error) {
	oo, err := Decode[models.OperationOutcome](line)
	issues := allIssues(line)
	if err != nil && len(issues) == 0 {
		return nil, err
	}
	out := make([]ExportIssue, len(issues))
	for i, is := range issues {
		out[i] = ExportIssue{Issue: is, Line: n, Outcome: oo}
	}
	return out, nil
}

// exportDecode streams the non-blank lines of f through decode. A bad
// line goes to o.badLine, or ends the iteration; any other error ends it.
func exportDecode[V any](ctx context.Context, c *Conn, m *Manifest, f OutputFile, opts []ExportOption,
	decode func(n int, line []byte) (V, error)) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		o := exportConfig(opts)
		r, release, err := c.openFile(m, f, &o)
		if err != nil {
			yield(zero, err)
			return
		}
		defer release()
		defer r.close()
		var blank blankRun
		for {
			before := r.offset
			line, long, err := r.next(ctx)
			if err == nil && !long && len(bytes.TrimSpace(line)) == 0 {
				if err := blank.add(r, r.offset-before); err != nil {
					yield(zero, err)
					return
				}
				continue
			}
			blank = blankRun{}
			switch {
			case err == io.EOF:
				return
			case err != nil:
				yield(zero, err)
				return
			case long:
				err = fmt.Errorf("line longer than %d bytes: %w", o.maxLine, ErrBodyTooLarge)
			}
			var v V
			if err == nil {
				v, err = decode(r.line, line)
			}
			if err != nil {
				le := r.lineError(err)
				if o.badLine == nil {
					yield(zero, le)
					return
				}
				o.badLine(le)
				continue
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// blankRun counts the blank lines read in a row: a file may hold no more
// than its longest line's worth of them (maxLine bytes), so that a
// server sending blank lines without end cannot keep the consumer from
// ever getting control back.
type blankRun struct {
	from  int   // the run's first line
	bytes int64 // the run's bytes, line ends included
}

// add counts a blank line of n bytes, the last one r read; an error ends
// the file.
func (b *blankRun) add(r *fileReader, n int64) error {
	if b.bytes == 0 {
		b.from = r.line
	}
	b.bytes += n
	if b.bytes <= int64(r.o.maxLine) {
		return nil
	}
	return fmt.Errorf("fhir: %s: export file %s: %w: more than %d bytes of blank lines from line %d",
		r.c.name, shownURL(r.k.url), ErrBulkProtocol, r.o.maxLine, b.from)
}
