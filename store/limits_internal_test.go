package store

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestAClientTimeoutIsCappedAtTheStoresOwn(t *testing.T) {
	tests := []struct {
		name, timeout string
		want          time.Duration
	}{
		{"no timeout takes the store's", "", maxQueryTimeout},
		{"a longer timeout is capped", "10m", maxQueryTimeout},
		{"a longer timeout in seconds is capped", "3600", maxQueryTimeout},
		{"a shorter timeout is kept", "5s", 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/query?timeout="+tt.timeout, nil)
			before := time.Now()
			ctx, cancel, err := withTimeout(r)
			if err != nil {
				t.Fatal(err)
			}
			defer cancel()
			deadline, ok := ctx.Deadline()
			if left := deadline.Sub(before); !ok || left < tt.want || left > tt.want+time.Second {
				t.Fatalf("deadline in %v, want %v", left, tt.want)
			}
		})
	}
	if maxQueryTimeout > 30*time.Second {
		t.Fatalf("query timeout %v is not well inside the API server's one-minute write timeout", maxQueryTimeout)
	}
}

func TestQueriesBeyondTheConcurrencyLimitAreRefusedAfterAShortWait(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	api := s.QueryAPI()
	defer func(d time.Duration) { queueWait = d }(queueWait)
	queueWait = 10 * time.Millisecond

	get := func() (int, string) {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/query?query=vector(1)", nil))
		var resp struct{ ErrorType, Error string }
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%v: %s", err, rec.Body.String())
		}
		return rec.Code, resp.ErrorType
	}
	for range maxConcurrent {
		s.querySlots <- struct{}{} // queries evaluating
	}
	if code, typ := get(); code != http.StatusServiceUnavailable || typ != "unavailable" {
		t.Fatalf("with every slot taken: %d %s, want 503 unavailable", code, typ)
	}
	<-s.querySlots
	if code, typ := get(); code != http.StatusOK {
		t.Fatalf("with a slot free: %d %s", code, typ)
	}
	if n := len(s.querySlots); n != maxConcurrent-1 {
		t.Fatalf("%d slots taken after the query, want %d (its own released)", n, maxConcurrent-1)
	}
}
