package slo

import (
	"math/rand/v2"
	"testing"
)

// TestRingSumsMatchAPlainRecount drives rings of several lengths with
// random adds (in order, late, too old, jumps past the whole ring, and
// resets) and checks every sum, short and long, against a recount of the
// events the ring should still hold.
func TestRingSumsMatchAPlainRecount(t *testing.T) {
	type ev struct {
		idx         int64
		good, total float64
	}
	for _, n := range []int{1, 5, 16, 17, 40, 726, 4336} {
		r := rand.New(rand.NewPCG(uint64(n), 9))
		g := newRing(n)
		var evs []ev
		head := int64(0)
		for step := 0; step < 3000; step++ {
			var idx int64
			switch k := r.IntN(100); {
			case k < 60:
				idx = head - int64(r.IntN(n+3)) // late, sometimes too old
			case k < 95:
				idx = head + int64(r.IntN(40))
			case k < 98:
				idx = head + int64(n) + int64(r.IntN(3*n)) // past the whole ring
			default:
				head = head - 50 + int64(r.IntN(100))
				g.reset(head)
				evs = evs[:0]
				continue
			}
			total := float64(1 + r.IntN(3))
			good := total
			if r.IntN(5) == 0 {
				good = 0
			}
			ok := g.add(idx, good, total)
			if wantOK := idx > head-int64(n); ok != wantOK {
				t.Fatalf("n=%d: add(%d) with head %d = %v", n, idx, head, ok)
			}
			if ok {
				evs = append(evs, ev{idx, good, total})
			}
			head = max(head, idx)
			if g.head != head {
				t.Fatalf("n=%d: head %d, want %d", n, g.head, head)
			}
			for range 3 {
				from := head - int64(r.IntN(n+40)) + 5
				to := from + int64(r.IntN(n+40)) - 10
				var want Counts
				for _, e := range evs {
					if e.idx >= from && e.idx <= to && e.idx > head-int64(n) {
						want.Good += e.good
						want.Total += e.total
					}
				}
				if got := g.sum(from, to); got != want {
					t.Fatalf("n=%d step %d: sum(%d, %d) with head %d = %+v, want %+v", n, step, from, to, head, got, want)
				}
			}
		}
	}
}
