package ingest

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc/encoding"
)

// The Collector's OTLP exporter offers zstd as a gRPC compression; without a
// registered decompressor grpc-go answers UNIMPLEMENTED, a permanent error
// the exporter drops data on. grpc-go limits the decompressed size to
// MaxRecvMsgSize, so a zstd bomb is cut like a gzip one.
func init() { encoding.RegisterCompressor(zstdCompressor{}) }

type zstdCompressor struct{}

func (zstdCompressor) Name() string { return "zstd" }

var zstdEncoders = sync.Pool{New: func() any {
	w, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	return w
}}

var zstdDecoders = sync.Pool{New: func() any {
	r, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(32<<20))
	return r
}}

func (zstdCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	enc := zstdEncoders.Get().(*zstd.Encoder)
	enc.Reset(w)
	return &pooledEncoder{enc}, nil
}

type pooledEncoder struct{ *zstd.Encoder }

func (p *pooledEncoder) Close() error {
	err := p.Encoder.Close()
	zstdEncoders.Put(p.Encoder)
	return err
}

func (zstdCompressor) Decompress(r io.Reader) (io.Reader, error) {
	dec := zstdDecoders.Get().(*zstd.Decoder)
	if err := dec.Reset(r); err != nil {
		zstdDecoders.Put(dec)
		return nil, err
	}
	return &pooledDecoder{dec: dec}, nil
}

// pooledDecoder returns its decoder to the pool once the stream ends.
type pooledDecoder struct{ dec *zstd.Decoder }

func (p *pooledDecoder) Read(b []byte) (int, error) {
	if p.dec == nil {
		return 0, io.EOF
	}
	n, err := p.dec.Read(b)
	if err == io.EOF {
		zstdDecoders.Put(p.dec)
		p.dec = nil
	}
	return n, err
}
