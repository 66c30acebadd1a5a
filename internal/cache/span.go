package cache

import (
	"context"
	"io"
	"os"
	"sync"
)

// copyBufs are the buffers file spans are copied through (see span.writeTo).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// span is bytes of one slice to send: held in memory (data), a section of a disk-tier
// file (file) that is read from the kernel's page cache as it is sent, never held whole
// in the Go heap, or a section of a slice still arriving from the origin (fill). Whoever holds a file span closes it. (The file part is a pointer so
// that memory spans, the hit path's, stay small.)
type span struct {
	data []byte
	file *fileSection
	fill *fillSection // arriving from the origin: sent as it arrives
}

// fileSection is bytes off..off+n-1 of f.
type fileSection struct {
	f      *os.File
	off, n int64
}

// size is the number of bytes in s.
func (s span) size() int64 {
	if s.fill != nil {
		return s.fill.stop - s.fill.off
	}
	if s.file != nil {
		return s.file.n
	}
	return int64(len(s.data))
}

// sub returns bytes from..to-1 of s (sharing its file).
func (s span) sub(from, to int64) span {
	if s.fill != nil {
		return span{fill: &fillSection{f: s.fill.f, off: s.fill.off + from, stop: s.fill.off + to}}
	}
	if s.file != nil {
		return span{file: &fileSection{f: s.file.f, off: s.file.off + from, n: to - from}}
	}
	return span{data: s.data[from:to]}
}

// skip drops the first n bytes of s.
func (s *span) skip(n int64) {
	if s.fill != nil {
		s.fill.off += n
		return
	}
	if s.file != nil {
		s.file.off += n
		s.file.n -= n
		return
	}
	s.data = s.data[n:]
}

// osFile is s's file; nil for a memory span.
func (s span) osFile() *os.File {
	if s.file == nil {
		return nil
	}
	return s.file.f
}

// read copies the start of s into p (for a fill, what has arrived, waiting under ctx for
// at least one byte).
func (s span) read(ctx context.Context, p []byte) (int, error) {
	if s.fill != nil {
		data, err := s.fill.ready(ctx)
		return copy(p, data), err
	}
	if s.file == nil {
		return copy(p, s.data), nil
	}
	want := int(min(int64(len(p)), s.file.n))
	n, err := s.file.f.ReadAt(p[:want], s.file.off)
	if n == want {
		err = nil
	} else if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF // the file lost bytes since it was checked
	}
	return n, err
}

// writeTo writes all of s to w: a memory span in one Write, a file span through a
// pooled 64 KiB buffer (pread, then Write), a fill span in one Write per run of bytes
// that has arrived, waiting for them under ctx.
//
// Not sendfile: handing net/http's ReadFrom the file limited to the span does send it
// with sendfile (strace shows it), but on the loopback connections of the benchmarks it
// cost more CPU per MiB than this copy, on the sending side and more still on the
// receiving one (see the commit that made it).
func (s span) writeTo(ctx context.Context, w io.Writer) (int64, error) {
	if s.fill != nil {
		fs := *s.fill
		var total int64
		for fs.off < fs.stop {
			data, err := fs.ready(ctx)
			if err != nil {
				return total, err
			}
			n, err := w.Write(data)
			total += int64(n)
			fs.off += int64(n)
			if err == nil && n < len(data) {
				err = io.ErrShortWrite
			}
			if err != nil {
				return total, err
			}
		}
		return total, nil
	}
	if s.file == nil {
		n, err := w.Write(s.data)
		if err == nil && n < len(s.data) {
			err = io.ErrShortWrite
		}
		return int64(n), err
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	var total int64
	for total < s.file.n {
		buf := (*bp)[:min(int64(len(*bp)), s.file.n-total)]
		n, err := s.file.f.ReadAt(buf, s.file.off+total)
		if n < len(buf) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file lost bytes since it was checked
			}
			return total, err
		}
		m, err := w.Write(buf)
		total += int64(m)
		if err == nil && m < len(buf) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
