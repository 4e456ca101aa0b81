package ingest

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters may gzip requests
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

func (s *Server) newGRPCServer() *grpc.Server {
	failures := &sync.Map{}
	gs := grpc.NewServer(
		// grpc-go checks this after decompression: RESOURCE_EXHAUSTED.
		grpc.MaxRecvMsgSize(int(s.opts.MaxBodyBytes)),
		grpc.InTapHandle(s.tap),
		grpc.ForceServerCodecV2(deferredCodec{inner: encoding.GetCodecV2("proto"), failures: failures}),
		grpc.StatsHandler(payloadStats{failures: failures}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 2 * time.Minute}),
	)
	ptraceotlp.RegisterGRPCServer(gs, &grpcTraces{s: s})
	return gs
}

// tap runs before a request's message is read: unauthenticated or
// overloaded requests are refused without reading their bytes.
func (s *Server) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if s.tokens.required() {
		var auth string
		if v := info.Header.Get("authorization"); len(v) > 0 {
			auth = v[0]
		}
		if !s.tokens.allow(auth) {
			s.metrics.request("grpc", outcomeUnauthorized)
			return nil, status.Error(codes.Unauthenticated, "missing or invalid bearer token")
		}
	}
	if s.inFlight.full() {
		s.metrics.request("grpc", outcomeOverloaded)
		return nil, status.Error(codes.Unavailable, "overloaded, retry later")
	}
	return ctx, nil
}

type grpcTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	s *Server
}

func (g *grpcTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s := g.s
	var n int64
	if p, ok := ctx.Value(payloadKey{}).(*payload); ok {
		if err := p.decodeErr; err != nil {
			s.metrics.request("grpc", outcomeBadRequest)
			return ptraceotlp.ExportResponse{}, status.Error(codes.InvalidArgument, "cannot decode ExportTraceServiceRequest: "+err.Error())
		}
		n = p.size
	}
	// The message is already decoded; charging its size to the in-flight
	// bound still refuses work when too much is being classified at once.
	if !s.inFlight.acquire(n) {
		s.metrics.request("grpc", outcomeOverloaded)
		return ptraceotlp.ExportResponse{}, status.Error(codes.Unavailable, "overloaded, retry later")
	}
	defer s.inFlight.release(n)
	res := Classify(req.Traces(), s.obs, s.now())
	s.classify("grpc", res)
	resp := ptraceotlp.NewExportResponse()
	if res.Rejected() > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(res.Rejected()))
		resp.PartialSuccess().SetErrorMessage(rejectMessage(res))
		s.metrics.request("grpc", outcomePartial)
	} else {
		s.metrics.request("grpc", outcomeSuccess)
	}
	return resp, nil
}

// grpc-go answers INTERNAL when a codec fails, and before any handler or
// interceptor runs; OTLP wants INVALID_ARGUMENT for bad data. So the codec
// lets a failed decode through, remembering the failure by message, the
// stats handler (which sees both the message and the RPC's context) moves
// it to the RPC, and Export answers INVALID_ARGUMENT without classifying.
type deferredCodec struct {
	inner    encoding.CodecV2
	failures *sync.Map // message → decode error
}

func (c deferredCodec) Marshal(v any) (mem.BufferSlice, error) { return c.inner.Marshal(v) }
func (c deferredCodec) Name() string                           { return c.inner.Name() }

func (c deferredCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := c.inner.Unmarshal(data, v); err != nil {
		c.failures.Store(v, err)
	}
	return nil
}

// payload is what the stats handler learns about an RPC's request message.
type payload struct {
	size      int64
	decodeErr error
}

type payloadKey struct{}

// payloadStats hands each RPC's decompressed message size, and any decode
// failure, to Export: gRPC reports them nowhere else.
type payloadStats struct{ failures *sync.Map }

func (payloadStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, payloadKey{}, &payload{})
}

func (h payloadStats) HandleRPC(ctx context.Context, st stats.RPCStats) {
	in, ok := st.(*stats.InPayload)
	if !ok {
		return
	}
	p, ok := ctx.Value(payloadKey{}).(*payload)
	if !ok {
		return
	}
	p.size = int64(in.Length)
	if err, failed := h.failures.LoadAndDelete(in.Payload); failed {
		p.decodeErr = err.(error)
	}
}

func (payloadStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (payloadStats) HandleConn(context.Context, stats.ConnStats)                       {}
