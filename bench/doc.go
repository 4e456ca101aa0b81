// Package bench compares spanslo's classify + count with the OpenTelemetry
// Collector contrib spanmetrics connector on the same decoded batches. It is
// its own module so the main module never depends on contrib.
package bench
