package ingest

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters may gzip requests
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"time"
)

func (s *Server) newGRPCServer() *grpc.Server {
	gs := grpc.NewServer(
		// grpc-go checks this after decompression: RESOURCE_EXHAUSTED.
		grpc.MaxRecvMsgSize(int(s.opts.MaxBodyBytes)),
		grpc.InTapHandle(s.tap),
		grpc.StatsHandler(payloadSizes{}),
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
	// The message is already decoded; charging its size to the in-flight
	// bound still refuses work when too much is being classified at once.
	var n int64
	if p, ok := ctx.Value(payloadKey{}).(*atomic.Int64); ok {
		n = p.Load()
	}
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

// payloadSizes hands each RPC's decompressed message size to Export, which
// is the only place gRPC reports it.
type payloadSizes struct{}

type payloadKey struct{}

func (payloadSizes) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, payloadKey{}, new(atomic.Int64))
}

func (payloadSizes) HandleRPC(ctx context.Context, st stats.RPCStats) {
	if in, ok := st.(*stats.InPayload); ok {
		if p, ok := ctx.Value(payloadKey{}).(*atomic.Int64); ok {
			p.Store(int64(in.Length))
		}
	}
}

func (payloadSizes) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (payloadSizes) HandleConn(context.Context, stats.ConnStats)                       {}
