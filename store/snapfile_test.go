package store

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
)

func sampleSnapshot() snapshot {
	buckets := []slo.Bucket{
		{Index: 29_499_901, Counts: slo.Counts{Good: 1, Total: 2}},
		{Index: 29_499_958, Counts: slo.Counts{Good: 0.5, Total: 3.25}},
		{Index: 29_500_000, Counts: slo.Counts{Good: 1e9, Total: 1e9 + 7}},
	}
	return snapshot{
		Taken: time.Unix(1_772_000_000, 123456789),
		States: []slo.SeriesState{
			{SLO: "booking/availability", AlignMinutes: 30,
				Fine:       slo.RingState{Head: 29_500_000, Buckets: buckets},
				Coarse:     slo.RingState{Head: 490_000},
				Cumulative: slo.Counts{Good: 1e9 + 1.5, Total: 1e9 + 12.5},
				Examples:   []slo.Example{{TraceID: slo.TraceID{1, 2, 3}, EndUnix: 1_772_000_000_000_000_000}}},
			{SLO: "booking/latency", GroupBy: []string{"app.tier", "region"}, Labels: []string{"gold", ""},
				Fine: slo.RingState{Head: -5, Buckets: []slo.Bucket{{Index: -7, Counts: slo.Counts{Good: 1, Total: 1}}}}},
		},
	}
}

func TestASnapshotDecodesToWhatWasEncoded(t *testing.T) {
	want := sampleSnapshot()
	got, err := decodeSnapshot(encodeSnapshot(want))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Taken.Equal(want.Taken) {
		t.Fatalf("taken %v, want %v", got.Taken, want.Taken)
	}
	got.Taken = want.Taken
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
	}
}

func TestEveryDamagedSnapshotIsRejected(t *testing.T) {
	data := encodeSnapshot(sampleSnapshot())
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x01
		if _, err := decodeSnapshot(bad); !errors.Is(err, errCorrupt) {
			t.Fatalf("a flipped bit at byte %d was accepted (%v)", i, err)
		}
	}
	for n := range len(data) {
		if _, err := decodeSnapshot(data[:n]); !errors.Is(err, errCorrupt) {
			t.Fatalf("a snapshot cut at %d bytes was accepted (%v)", n, err)
		}
	}
}

// FuzzDecodeSnapshot feeds the decoder arbitrary files, with valid
// checksums so the payload parser itself is exercised: it must never
// panic or allocate much beyond the input, and what it accepts must encode
// back to an equal snapshot.
func FuzzDecodeSnapshot(f *testing.F) {
	valid := encodeSnapshot(sampleSnapshot())
	f.Add(valid[headerLen : len(valid)-4])
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := decodeSnapshot(seal(snapMagic, snapVersion, payload))
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not say corrupt", err)
			}
			return
		}
		again, err := decodeSnapshot(encodeSnapshot(s))
		if err != nil {
			t.Fatalf("re-encoding an accepted snapshot: %v", err)
		}
		if !reflect.DeepEqual(again.States, s.States) {
			t.Fatalf("round trip changed the states")
		}
	})
}

func BenchmarkEncodeSnapshot(b *testing.B) {
	s := sampleSnapshot()
	b.ReportAllocs()
	for b.Loop() {
		encodeSnapshot(s)
	}
}
