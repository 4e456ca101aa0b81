package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/store"
)

// How spanslo serve wires the store: open, restore before counting, flush
// in the background, mount the query API, and on shutdown wait for the last
// flush before closing.
func Example() {
	dir, _ := os.MkdirTemp("", "spanslo-data")
	defer os.RemoveAll(dir)
	cfg, err := slo.Load([]byte(testYAML), "slos.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}

	st, err := store.Open(dir, store.Options{
		Logger:     slog.New(slog.DiscardHandler),
		Registerer: prometheus.NewRegistry(),
		Retention:  store.RetentionFor(cfg),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var current atomic.Pointer[slo.Tracker]
	current.Store(slo.NewTracker(cfg))
	rep, err := st.Restore(current.Load())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("restored from:", rep.Source, "WAL repairs:", rep.Info.WALCorruptions)

	mux := http.NewServeMux()
	mux.Handle("/prometheus/api/v1/", http.StripPrefix("/prometheus/api/v1", st.QueryAPI()))

	ctx, cancel := context.WithCancel(context.Background())
	flushed := make(chan struct{})
	go func() { st.Run(ctx, current.Load); close(flushed) }()

	// On reload: next := slo.NewTracker(newCfg); slo.Migrate(current.Load(), next); current.Store(next)
	cancel()
	<-flushed
	fmt.Println("close:", st.Close())
	// Output:
	// restored from: empty WAL repairs: 0
	// close: <nil>
}
