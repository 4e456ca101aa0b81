package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

var (
	errTooLarge        = errors.New("request body exceeds the size limit after decompression")
	errOverloaded      = errors.New("too many request bytes in flight")
	errUnknownEncoding = errors.New("unsupported content encoding")
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var gzipPool sync.Pool // *gzip.Reader

var zstdPool = sync.Pool{New: func() any {
	// One goroutine and low memory: request bodies are small and many run at
	// once; the size limit is enforced by the reader loop, not by the decoder.
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(8<<20))
	if err != nil {
		panic(err) // only invalid options fail
	}
	return d
}}

// decompressor wraps body for encoding; done returns pooled state.
func decompressor(encoding string, body io.Reader) (r io.Reader, done func(), err error) {
	switch encoding {
	case "", "identity":
		return body, func() {}, nil
	case "gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr, err = gzip.NewReader(body)
		} else {
			err = zr.Reset(body)
		}
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { gzipPool.Put(zr) }, nil
	case "zstd":
		zd := zstdPool.Get().(*zstd.Decoder)
		if err := zd.Reset(body); err != nil {
			zstdPool.Put(zd)
			return nil, nil, err
		}
		return zd, func() { zd.Reset(nil); zstdPool.Put(zd) }, nil
	}
	return nil, nil, errUnknownEncoding
}

// readChunk is how much is read (and charged to the in-flight bound) at once.
const readChunk = 32 << 10

// readBody reads r into buf, at most max bytes, charging every byte to lim
// before reading it (a chunk is reserved, the unread rest given back). It stops reading as soon as the limit is passed, so a
// compression bomb never inflates beyond max+readChunk bytes. held is what
// the caller must release, also on error.
func readBody(buf *bytes.Buffer, r io.Reader, max int64, lim *inFlight) (held int64, err error) {
	for {
		if int64(buf.Len()) > max {
			return held, errTooLarge
		}
		if !lim.acquire(readChunk) {
			return held, errOverloaded
		}
		buf.Grow(readChunk)
		b := buf.AvailableBuffer()[:readChunk]
		n, rerr := io.ReadAtLeast(r, b, 1)
		lim.release(int64(readChunk - n))
		held += int64(n)
		buf.Write(b[:n])
		if rerr == io.EOF { // not ErrUnexpectedEOF: a body cut short (client gone, truncated gzip) is refused, never half-counted
			break
		}
		if rerr != nil {
			return held, rerr
		}
	}
	if int64(buf.Len()) > max {
		return held, errTooLarge
	}
	return held, nil
}
