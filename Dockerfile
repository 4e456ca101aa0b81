# Multi-stage build: a static spanslo binary on a distroless base, running
# as a non-root user, with its data directory as a volume.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/spanslo ./cmd/spanslo \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/spanslo /usr/local/bin/spanslo
COPY --from=build --chown=65532:65532 /out/data /var/lib/spanslo
# Mount your own SLOs over this file (it is the bundled booking example).
COPY slos.yaml /etc/spanslo/slos.yaml
USER 65532:65532
VOLUME ["/var/lib/spanslo"]
# OTLP gRPC, OTLP HTTP, API + dashboard.
EXPOSE 4317 4318 8080
ENTRYPOINT ["/usr/local/bin/spanslo"]
CMD ["serve", "--config", "/etc/spanslo/slos.yaml", "--data", "/var/lib/spanslo", \
     "--otlp-grpc-addr", "0.0.0.0:4317", "--otlp-http-addr", "0.0.0.0:4318", "--http-addr", "0.0.0.0:8080"]
