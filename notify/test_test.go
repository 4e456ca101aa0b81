package notify_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spanslo/spanslo/notify"
)

func TestSendTestLabelsTheAlertAndClosesThePagerDutyIncident(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	res, err := notify.SendTest(context.Background(), e.cfg, "page", "", e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Notifier != "oncall" || res[0].Err != nil {
		t.Fatalf("results %+v", res)
	}
	reqs := e.pd.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want trigger and resolve", len(reqs))
	}
	trigger, resolve := checkEventsV2(t, reqs[0]), checkEventsV2(t, reqs[1])
	if !strings.HasPrefix(trigger.Payload.Summary, "[TEST") || resolve.Action != "resolve" || resolve.DedupKey != trigger.DedupKey {
		t.Errorf("trigger %+v resolve %+v", trigger, resolve)
	}
	if !strings.HasPrefix(trigger.DedupKey, "spanslo/test/oncall/") {
		t.Errorf("dedup_key %q could collide with a real alert", trigger.DedupKey)
	}
}

func TestSendTestToOneSlackNotifierForTheZoneRoute(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	res, err := notify.SendTest(context.Background(), e.cfg, "zone", "chat", e.opts)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("results %+v, %v", res, err)
	}
	reqs := e.slack.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if m := checkSlack(t, reqs[0]); !strings.HasPrefix(m.Blocks[0].Text.Text, "🧪 TEST") {
		t.Errorf("header %q", m.Blocks[0].Text.Text)
	}
}

func TestSendTestReportsABrokenHookWithoutItsURL(t *testing.T) {
	e := newEnv(t, accepted, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no_service")
	})
	res, err := notify.SendTest(context.Background(), e.cfg, "ticket", "", e.opts)
	if err != nil || len(res) != 1 || res[0].Err == nil {
		t.Fatalf("results %+v, %v", res, err)
	}
	if msg := res[0].Err.Error(); !strings.Contains(msg, "no_service") || strings.Contains(msg, "XoXsEcReTwEbHoOkToKeN") {
		t.Errorf("error %q", msg)
	}
	if _, err := notify.SendTest(context.Background(), e.cfg, "pager", "", e.opts); err == nil {
		t.Error("an unknown route was accepted")
	}
	if _, err := notify.SendTest(context.Background(), e.cfg, "page", "nobody", e.opts); err == nil {
		t.Error("an unknown notifier was accepted")
	}
}
