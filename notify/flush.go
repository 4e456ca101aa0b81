package notify

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify/delivery"
)

// item is one message due for delivery and the queue entry it came from.
type item struct {
	key     string
	version uint64
	msg     delivery.Message
}

// flushOne delivers everything due for one notifier: queued events the
// log says the notifier still needs, and repeats of still-firing alerts.
// ctx ends the flush between requests and in waits; send bounds the
// requests themselves (see work).
func (d *Dispatcher) flushOne(ctx, send context.Context, in *integration, st *state) error {
	st.flushMu.Lock()
	defer st.flushMu.Unlock()
	items := d.due(in, st)
	var last error
	for len(items) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(items), in.maxBatch)
		batch := items[:n]
		if err := d.waitTurn(ctx, in, st); err != nil {
			return err
		}
		err := d.deliver(ctx, send, in, st, batch)
		if err != nil && (ctx.Err() != nil || send.Err() != nil) {
			// Shutting down or reloading: not the notifier's failure, and
			// the queue keeps everything for the next worker.
			return errors.Join(ctx.Err(), send.Err())
		}
		d.settle(in, st, batch, err)
		if err != nil {
			last = err
			var de *delivery.Error
			if errors.As(err, &de) && de.Retryable {
				// The service is down: the rest waits for the retry too.
				d.postpone(st, items[n:], de.RetryAfter)
				break
			}
		}
		items = items[n:]
	}
	st.mu.Lock()
	d.metrics.pending.WithLabelValues(in.name, in.typ).Set(float64(len(st.pending)))
	st.mu.Unlock()
	if in.retiring {
		d.retire(in)
	}
	return last
}

// due decides, per queued key, what the notifier must be told, comparing
// with what the log says it was told; repeats are queued first.
func (d *Dispatcher) due(in *integration, st *state) []item {
	now := d.opts.Now()
	firing := d.repeatable(in)
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range firing {
		if _, queued := st.pending[e.Key]; !queued && now.Sub(e.LastSent) >= d.opts.RepeatInterval {
			a := *e.Alert
			st.pending[e.Key] = &pending{alert: &a, at: e.LastSent}
		}
	}
	var items []item
	for key, p := range st.pending {
		if now.Before(p.notBefore) {
			continue
		}
		msg, send := d.decide(in, key, p, now)
		if !send {
			delete(st.pending, key)
			continue
		}
		if msg.Alert != nil {
			if s := cfg.SLO(msg.Alert.SLOID); s != nil {
				msg.CurrentZone = s.Zones.Of(msg.Alert.BudgetRemaining)
			}
		}
		items = append(items, item{key: key, version: p.version, msg: msg})
	}
	sort.Slice(items, func(i, j int) bool {
		if ti, tj := eventTime(&items[i].msg), eventTime(&items[j].msg); !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return items[i].key < items[j].key
	})
	return items
}

// repeatable lists the log's firing alerts of a notifier that may be
// repeated: not those whose latest event was a resolve (it was refused),
// and none for a removed notifier, which only sends resolves.
func (d *Dispatcher) repeatable(in *integration) []logEntry {
	if in.retiring {
		return nil
	}
	firing := d.log.firing(in.name)
	d.mu.Lock()
	defer d.mu.Unlock()
	keep := firing[:0]
	for _, e := range firing {
		if !d.resolved[e.Key] {
			keep = append(keep, e)
		}
	}
	return keep
}

// decide compares a queued event with the log: a firing alert already
// delivered within the repeat interval is not sent again (a restart or a
// re-evaluation must not page twice), a resolve goes only where a trigger
// went, a zone change only when the zone differs from the last one sent.
func (d *Dispatcher) decide(in *integration, key string, p *pending, now time.Time) (delivery.Message, bool) {
	e, logged := d.log.get(in.name, key)
	msg := delivery.Message{Alert: p.alert, Zone: p.zone, At: now}
	switch {
	case in.retiring && (p.zone != nil || p.alert.State != burnrate.StateResolved):
		return msg, false // a removed notifier only sends the resolves it owes
	case p.zone != nil:
		return msg, !logged || e.Zone != p.zone.To
	case p.alert.State == burnrate.StateResolved:
		if !logged || !e.Firing {
			return msg, false
		}
		if d.opts.DisableResolved {
			d.logErr(d.log.update(map[string]*logEntry{logKey(in.name, key): nil}))
			return msg, false
		}
		return msg, true
	default:
		if logged && e.Firing {
			if now.Sub(e.LastSent) < d.opts.RepeatInterval {
				return msg, false
			}
			msg.Repeat = true
		}
		return msg, true
	}
}

func eventTime(m *delivery.Message) time.Time {
	switch {
	case m.Zone != nil:
		return m.Zone.At
	case m.Resolved():
		return m.Alert.ResolvedAt
	default:
		return m.Alert.FiredAt
	}
}

// settle records a batch's outcome: the log on success, the queue
// (entries replaced by newer events stay), health and metrics.
func (d *Dispatcher) settle(in *integration, st *state, batch []item, err error) {
	now := d.opts.Now()
	var de *delivery.Error
	retryLater := errors.As(err, &de) && de.Retryable
	switch {
	case err == nil:
		d.logErr(d.log.update(d.logChanges(in, batch, now)))
		d.metrics.sent.WithLabelValues(in.name, in.typ).Add(float64(len(batch)))
		d.opts.Logger.Debug("notification sent", "notifier", in.name, "type", in.typ, "notifications", len(batch))
	case !retryLater:
		// A repeat the service refuses waits for the next repeat interval
		// instead of being tried again at every flush.
		d.logErr(d.log.update(d.refusedRepeats(in, batch, now)))
		fallthrough
	default:
		reason := "client_error"
		if de != nil {
			reason = de.Reason
		}
		d.metrics.failed.WithLabelValues(in.name, in.typ, reason).Add(float64(len(batch)))
		d.opts.Logger.Error("notification failed", "notifier", in.name, "type", in.typ, "reason", reason,
			"notifications", len(batch), "retry_later", retryLater, "error", in.redact.Error(err))
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, it := range batch {
		p, ok := st.pending[it.key]
		switch {
		case !ok || p.version != it.version:
		case retryLater:
			p.notBefore = now.Add(max(d.opts.RetryInterval, de.RetryAfter))
		default:
			delete(st.pending, it.key)
		}
	}
	if err == nil {
		st.health.Healthy, st.health.LastSuccess = true, now
	} else {
		st.health.Healthy, st.health.LastError, st.health.LastErrorAt = false, in.redact.Error(err), now
	}
	d.metrics.healthy.WithLabelValues(in.name, in.typ).Set(boolGauge(st.health.Healthy))
}

func (d *Dispatcher) refusedRepeats(in *integration, batch []item, now time.Time) map[string]*logEntry {
	changes := map[string]*logEntry{}
	for _, it := range batch {
		if it.msg.Repeat {
			if e, ok := d.log.get(in.name, it.key); ok && e.Firing {
				e.LastSent = now
				changes[logKey(in.name, it.key)] = &e
			}
		}
	}
	return changes
}

func (d *Dispatcher) logChanges(in *integration, batch []item, now time.Time) map[string]*logEntry {
	changes := make(map[string]*logEntry, len(batch))
	for _, it := range batch {
		lk := logKey(in.name, it.key)
		prev, _ := d.log.get(in.name, it.key)
		switch m := it.msg; {
		case m.Zone != nil:
			changes[lk] = &logEntry{Notifier: in.name, Key: it.key, Zone: m.Zone.To, FirstSent: now, LastSent: now}
		case m.Resolved():
			changes[lk] = nil
		default:
			first := now
			if prev.Firing {
				first = prev.FirstSent
			}
			changes[lk] = &logEntry{Notifier: in.name, Key: it.key, Firing: true, Alert: encodable(m.Alert), FirstSent: first, LastSent: now}
		}
	}
	return changes
}

// postpone delays items the retry stage did not get to.
func (d *Dispatcher) postpone(st *state, rest []item, retryAfter time.Duration) {
	until := d.opts.Now().Add(max(d.opts.RetryInterval, retryAfter))
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, it := range rest {
		if p, ok := st.pending[it.key]; ok && p.version == it.version {
			p.notBefore = until
		}
	}
}

// nextDue is when the notifier next has work without a new event: a
// deferred retry or a repeat.
func (d *Dispatcher) nextDue(in *integration, st *state) time.Time {
	next := d.opts.Now().Add(time.Minute)
	firing := d.repeatable(in)
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range firing {
		if _, queued := st.pending[e.Key]; queued {
			continue // its queue entry says when
		}
		if t := e.LastSent.Add(d.opts.RepeatInterval); t.Before(next) {
			next = t
		}
	}
	for _, p := range st.pending {
		if p.notBefore.Before(next) {
			next = p.notBefore
		}
	}
	return next
}

func (d *Dispatcher) logErr(err error) {
	if err != nil {
		d.opts.Logger.Error("notification log not saved", "error", err)
	}
}

// encodable copies an alert with NaN and infinite readings zeroed:
// encoding/json refuses them, and the log must always save.
func encodable(a *burnrate.Alert) *burnrate.Alert {
	c := *a
	for _, f := range []*float64{&c.Objective, &c.Factor, &c.BurnLong, &c.BurnShort, &c.BudgetRemaining} {
		if math.IsNaN(*f) || math.IsInf(*f, 0) {
			*f = 0
		}
	}
	return &c
}
