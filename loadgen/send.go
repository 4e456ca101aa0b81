package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // gzip compressor for gRPC
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Sender delivers one batch.
type Sender interface {
	Send(ctx context.Context, td ptrace.Traces) (Reply, error)
}

// Reply is what the receiver said about a delivered batch.
type Reply struct {
	Rejected int64 // OTLP partial success
}

// BackpressureError is a refusal the receiver wants retried later.
type BackpressureError struct {
	RetryAfter time.Duration
	Reason     string
}

func (e *BackpressureError) Error() string {
	return fmt.Sprintf("receiver refused the batch (%s), retry after %s", e.Reason, e.RetryAfter)
}

// HTTPSender posts protobuf batches to an OTLP/HTTP endpoint.
type HTTPSender struct {
	URL    string // e.g. http://127.0.0.1:4318/v1/traces
	Token  string // bearer token, optional
	Gzip   bool
	Client *http.Client
}

// Send posts td and decodes the reply.
func (s *HTTPSender) Send(ctx context.Context, td ptrace.Traces) (Reply, error) {
	body, err := s.Encode(td)
	if err != nil {
		return Reply{}, err
	}
	return s.SendEncoded(ctx, body)
}

// Encode is the request body of td: protobuf, gzipped when asked.
func (s *HTTPSender) Encode(td ptrace.Traces) ([]byte, error) {
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	if !s.Gzip {
		return body, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(body)
	_ = zw.Close()
	return buf.Bytes(), nil
}

// SendEncoded posts a body made by Encode, so a throughput run can encode
// its batches once and measure the receiver, not the generator.
func (s *HTTPSender) SendEncoded(ctx context.Context, body []byte) (Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, nil)
	if err != nil {
		return Reply{}, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if s.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Reply{}, fmt.Errorf("read reply: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		r := ptraceotlp.NewExportResponse()
		if err := r.UnmarshalProto(b); err != nil {
			return Reply{}, fmt.Errorf("decode reply: %w", err)
		}
		return Reply{Rejected: r.PartialSuccess().RejectedSpans()}, nil
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return Reply{}, &BackpressureError{RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Reason: resp.Status}
	}
	return Reply{}, fmt.Errorf("receiver answered %s", resp.Status)
}

func retryAfter(h string) time.Duration {
	if n, err := strconv.Atoi(h); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return time.Second
}

// GRPCSender exports batches over OTLP/gRPC.
type GRPCSender struct {
	conn   *grpc.ClientConn
	client ptraceotlp.GRPCClient
	token  string
	gzip   bool
}

// DialGRPC connects (without TLS) to an OTLP/gRPC receiver.
func DialGRPC(addr, token string, gzip bool) (*GRPCSender, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &GRPCSender{conn: conn, client: ptraceotlp.NewGRPCClient(conn), token: token, gzip: gzip}, nil
}

// Close closes the connection.
func (s *GRPCSender) Close() error { return s.conn.Close() }

// Send exports td.
func (s *GRPCSender) Send(ctx context.Context, td ptrace.Traces) (Reply, error) {
	if s.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.token)
	}
	var opts []grpc.CallOption
	if s.gzip {
		opts = append(opts, grpc.UseCompressor("gzip"))
	}
	resp, err := s.client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td), opts...)
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.Unavailable {
			return Reply{}, &BackpressureError{RetryAfter: time.Second, Reason: st.Message()}
		}
		return Reply{}, err
	}
	return Reply{Rejected: resp.PartialSuccess().RejectedSpans()}, nil
}
