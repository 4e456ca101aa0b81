package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/spanslo/spanslo/slo"
)

var maxFutureText = slo.MaxFuture.String()

const (
	ctProtobuf = "application/x-protobuf"
	ctJSON     = "application/json"
)

// TracesPath is the OTLP/HTTP traces endpoint.
const TracesPath = "/v1/traces"

func (s *Server) newHTTPServer(ctx context.Context) *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}

// Handler is the OTLP/HTTP receiver: POST /v1/traces.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(TracesPath, s.handleTraces)
	return mux
}

// httpError is a failed request: its status, the outcome it is counted as
// and the message of the Status body.
type httpError struct {
	status  int
	outcome string
	msg     string
}

func (s *Server) handleTraces(w http.ResponseWriter, r *http.Request) {
	ct := mediaType(r.Header.Get("Content-Type"))
	if err := s.exportHTTP(w, r, ct); err != nil {
		s.metrics.request("http", err.outcome)
		if err.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(s.opts.RetryAfter/time.Second))))
		}
		writeStatus(w, ct, err.status, err.msg)
	}
}

func (s *Server) exportHTTP(w http.ResponseWriter, r *http.Request, ct string) *httpError {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return &httpError{http.StatusMethodNotAllowed, outcomeMethodNotAllowed, "method " + r.Method + " not allowed; use POST"}
	}
	if !s.tokens.allow(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="spanslo"`)
		return &httpError{http.StatusUnauthorized, outcomeUnauthorized, "missing or invalid bearer token"}
	}
	if ct != ctProtobuf && ct != ctJSON {
		return &httpError{http.StatusUnsupportedMediaType, outcomeUnsupportedMedia, "unsupported content type; use " + ctProtobuf + " or " + ctJSON}
	}
	if s.inFlight.full() {
		return &httpError{http.StatusServiceUnavailable, outcomeOverloaded, "overloaded, retry later"}
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if r.ContentLength > s.opts.MaxBodyBytes && (enc == "" || enc == "identity") {
		return tooLarge(s.opts.MaxBodyBytes)
	}
	body, done, err := decompressor(enc, http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	switch {
	case errors.Is(err, errUnknownEncoding):
		return &httpError{http.StatusUnsupportedMediaType, outcomeUnsupportedMedia, "unsupported content encoding; use gzip, zstd or none"}
	case err != nil:
		return readError(err, s.opts.MaxBodyBytes)
	}
	defer done()
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	held, err := readBody(buf, body, s.opts.MaxBodyBytes, &s.inFlight)
	defer s.inFlight.release(held)
	if err != nil {
		return readError(err, s.opts.MaxBodyBytes)
	}
	req := ptraceotlp.NewExportRequest()
	if ct == ctJSON {
		err = req.UnmarshalJSON(buf.Bytes())
	} else {
		err = req.UnmarshalProto(buf.Bytes())
	}
	if err != nil {
		return &httpError{http.StatusBadRequest, outcomeBadRequest, "cannot decode ExportTraceServiceRequest: " + err.Error()}
	}
	res := Classify(req.Traces(), s.obs, s.now())
	s.classify("http", res)
	if res.Rejected() > 0 {
		s.metrics.request("http", outcomePartial)
	} else {
		s.metrics.request("http", outcomeSuccess)
	}
	writeResponse(w, ct, res)
	return nil
}

func tooLarge(max int64) *httpError {
	return &httpError{http.StatusRequestEntityTooLarge, outcomeTooLarge,
		fmt.Sprintf("request body larger than %d bytes after decompression", max)}
}

// readError maps an error met while reading (and decompressing) a body.
func readError(err error, max int64) *httpError {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errTooLarge), errors.As(err, &mbe):
		return tooLarge(max)
	case errors.Is(err, errOverloaded):
		return &httpError{http.StatusServiceUnavailable, outcomeOverloaded, "overloaded, retry later"}
	}
	return &httpError{http.StatusBadRequest, outcomeBadRequest, "cannot read request body: " + err.Error()}
}

func mediaType(header string) string {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return ""
	}
	return mt
}

func writeResponse(w http.ResponseWriter, ct string, res Result) {
	resp := ptraceotlp.NewExportResponse()
	if n := res.Rejected(); n > 0 {
		ps := resp.PartialSuccess()
		ps.SetRejectedSpans(int64(n))
		ps.SetErrorMessage(rejectMessage(res))
	}
	var b []byte
	var err error
	if ct == ctJSON {
		b, err = resp.MarshalJSON()
	} else {
		b, err = resp.MarshalProto()
	}
	if err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeStatus answers with a google.rpc.Status body, as OTLP/HTTP requires,
// in the request's encoding (protobuf when it is neither).
func writeStatus(w http.ResponseWriter, ct string, code int, msg string) {
	st := &spb.Status{Code: int32(grpcCode(code)), Message: msg}
	var b []byte
	if ct == ctJSON {
		b, _ = protojson.Marshal(st)
	} else {
		ct = ctProtobuf
		b, _ = proto.Marshal(st)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func grpcCode(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusRequestEntityTooLarge:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return codes.Unavailable
	case http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType:
		return codes.Unimplemented
	}
	return codes.Unknown
}
