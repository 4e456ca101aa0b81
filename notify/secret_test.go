package notify_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/spanslo/spanslo/burnrate"
)

// secretPieces are the strings that must never show outside a request.
var secretPieces = []string{pdKey, "XoXsEcReTwEbHoOkToKeN", "T0SECRET", "B0SECRET"}

func TestNoSecretLeaksInLogsErrorsHealthOrMetrics(t *testing.T) {
	echo := func(code int) func(int, http.ResponseWriter, *http.Request) {
		return func(_ int, w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			// A hostile or careless service echoing the request back.
			msg, _ := json.Marshal("bad request to " + r.URL.String() + ": " + string(body))
			io.WriteString(w, `{"status":"invalid event","message":`+string(msg)+`}`)
		}
	}
	cases := []struct {
		name    string
		respond func(int, http.ResponseWriter, *http.Request)
		closed  bool
		// userinfo gives the webhook URL a user, password and query, all
		// secret: net/http prints them in its errors.
		userinfo bool
	}{
		{"400 echoing the request", echo(http.StatusBadRequest), false, false},
		{"404 echoing the request", echo(http.StatusNotFound), false, false},
		{"500 echoing the request", echo(http.StatusInternalServerError), false, false},
		{"429 echoing the request", echo(http.StatusTooManyRequests), false, false},
		{"connection reset", func(_ int, w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, false, false},
		{"timeout", func(_ int, _ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, false, false},
		{"connection refused", nil, true, false},
		{"connection refused by a webhook URL with user info and a query", nil, true, true},
		{"500 from a webhook URL with user info and a query", echo(http.StatusInternalServerError), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			respond := tc.respond
			if respond == nil {
				respond = accepted
			}
			e := newEnv(t, respond, respond)
			if tc.closed {
				// Point both notifiers at a port nothing listens on.
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := l.Addr().String()
				l.Close()
				e.cfg.Notifiers["oncall"].Options["url"] = "http://" + addr
				e.slackURL = "http://" + addr + slackPath
				e.setEnv("TEST_SLACK_URL", e.slackURL)
			}
			pieces := secretPieces
			if tc.userinfo {
				u, err := url.Parse(e.slackURL)
				if err != nil {
					t.Fatal(err)
				}
				u.User, u.RawQuery = url.UserPassword("h00kUser", "h00kPaSsWoRd"), "token=QuErYsEcReT"
				e.slackURL = u.String()
				e.setEnv("TEST_SLACK_URL", e.slackURL)
				pieces = append(pieces, "h00kUser", "h00kPaSsWoRd", "QuErYsEcReT")
			}
			if tc.name == "timeout" {
				e.opts.AttemptTimeout = 50 * time.Millisecond
			}
			e.opts.RetryDeadline = 10 * time.Second
			e.start()
			e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)), fire(alert("ticket-1d", "ticket", burnrate.StateFiring)))
			err := e.flush()
			if err == nil {
				t.Fatal("flush succeeded")
			}
			health, _ := json.Marshal(e.d.Health())
			var metrics strings.Builder
			mfs, _ := e.reg.Gather()
			for _, mf := range mfs {
				expfmt.MetricFamilyToText(&metrics, mf)
			}
			logFile, _ := os.ReadFile(filepath.Join(e.opts.DataDir, "notifications.json"))
			for what, text := range map[string]string{"error": err.Error(), "logs": e.logs.String(),
				"health": string(health), "metrics": metrics.String(), "notification log": string(logFile)} {
				for _, s := range append(pieces, e.slackURL) {
					if strings.Contains(text, s) {
						t.Errorf("%s contains the secret %q:\n%s", what, s, text)
					}
				}
			}
			if !strings.Contains(err.Error(), "<secret>") && !tc.closed && strings.Contains(tc.name, "echo") {
				t.Errorf("error %q does not show where the secret was redacted", err)
			}
			if !strings.Contains(e.logs.String(), "notification failed") {
				t.Errorf("no failure logged:\n%s", e.logs.String())
			}
		})
	}
}
