#!/bin/sh
# Loopback throughput: spanslo loadgen → spanslo serve, the server pinned to
# CPU 0 and the generator to CPU 1. Prints spans/s, server CPU µs per span
# and the server's peak RSS for each protocol. Usage: bench/throughput.sh [seconds]
set -eu
secs=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/spanslo" "$root/cmd/spanslo"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() { # name, serve flags, loadgen flags...
	name=$1; serveflags=$2; shift 2
	# shellcheck disable=SC2086
	taskset -c 0 "$tmp/spanslo" serve --config "$root/slos.yaml" --data "$tmp/data" $serveflags \
		--otlp-grpc-addr 127.0.0.1:24317 --otlp-http-addr 127.0.0.1:24318 --http-addr 127.0.0.1:0 2>"$tmp/serve.log" &
	pid=$!
	sleep 1
	t0=$(cpu_ticks $pid)
	out=$(taskset -c 1 "$tmp/spanslo" loadgen --duration "${secs}s" --seed 1 "$@" 2>/dev/null)
	t1=$(cpu_ticks $pid)
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	kill -INT $pid; wait $pid || true
	spans=$(echo "$out" | sed -n 's/^sent \([0-9]*\) spans.*/\1/p')
	refused=$(echo "$out" | sed -n 's/.* \([0-9]*\) refused.*/\1/p')
	hz=$(getconf CLK_TCK)
	awk -v n="$name" -v s="$spans" -v d="$secs" -v c=$((t1 - t0)) -v hz="$hz" -v m="$hwm" -v r="$refused" 'BEGIN {
		printf "%-28s %9.0f spans/s  %5.2f µs CPU/span  peak RSS %4.0f MiB  refused %s\n", n, s/d, c/hz*1e6/s, m/1024, r }'
}

measure "otlp/http protobuf"      "" --protocol http --target 127.0.0.1:24318 --rate 0 --batch 1000 --workers 4 --reuse 16
measure "otlp/http protobuf gzip" "" --protocol http --target 127.0.0.1:24318 --rate 0 --batch 1000 --workers 4 --reuse 16 --gzip
measure "otlp/grpc"               "" --protocol grpc --target 127.0.0.1:24317 --rate 0 --batch 1000 --workers 4 --reuse 16
# Memory under rising offered load: a tenth of the capacity, then 64
# concurrent senders offering far more than one core decodes, with a 16 MiB
# in-flight bound: the excess is refused with 503 + Retry-After, not queued.
measure "otlp/http paced 36k spans/s" "" --protocol http --target 127.0.0.1:24318 --rate 5000
measure "otlp/http gzip 64 senders" "--max-inflight-bytes 16777216" --protocol http --target 127.0.0.1:24318 --rate 0 --batch 1000 --workers 64 --reuse 2 --gzip
