package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spanslo/spanslo/notify/delivery"
)

func TestRedactorHidesEverySpellingOfASecret(t *testing.T) {
	hook := "https://hooks.slack.com/services/T000/B000/s3cr3t+t0k3n"
	r := delivery.NewRedactor(hook, "R0UT1NGKEY", "")
	cases := []struct{ name, in string }{
		{"the URL itself", "post " + hook + ": EOF"},
		{"a url.Error from net/http", (&url.Error{Op: "Post", URL: hook, Err: errors.New("timeout")}).Error()},
		{"the path alone", "404 for /services/T000/B000/s3cr3t+t0k3n"},
		{"the query-escaped URL", "redirect=" + url.QueryEscape(hook)},
		{"a quoted key", `{"routing_key":"R0UT1NGKEY"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := r.String(tc.in)
			if strings.Contains(got, "s3cr3t") || strings.Contains(got, "R0UT1NGKEY") || !strings.Contains(got, delivery.Placeholder) {
				t.Errorf("%q redacted to %q", tc.in, got)
			}
		})
	}
	if got := r.String("nothing secret here"); got != "nothing secret here" {
		t.Errorf("changed an innocent string: %q", got)
	}
}

func TestNetErrorShowsNoPartOfASecretWebhookURL(t *testing.T) {
	hook := "https://h00kUser:h00kPaSs@hooks.example.com/services/T0/B0/s3cr3t?token=QuErYsEcReT"
	r := delivery.NewRedactor(hook)
	// What net/http's client returns: the URL with the password masked,
	// the user and the query intact.
	masked := "https://h00kUser:***@hooks.example.com/services/T0/B0/s3cr3t?token=QuErYsEcReT"
	cases := []struct {
		name string
		err  error
	}{
		{"a url.Error", &url.Error{Op: "Post", URL: masked, Err: errors.New("connection refused")}},
		{"a wrapped url.Error", fmt.Errorf("send: %w", &url.Error{Op: "Post", URL: masked, Err: context.DeadlineExceeded})},
		{"the URL in plain text", errors.New("dial " + masked + " and " + hook + ": refused")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := delivery.NetError(tc.err, r, "slack chat").Error()
			for _, piece := range []string{"h00kUser", "h00kPaSs", "s3cr3t", "QuErYsEcReT", "T0/B0"} {
				if strings.Contains(got, piece) {
					t.Errorf("%q shows %q", got, piece)
				}
			}
			if !strings.HasPrefix(got, "slack chat: ") {
				t.Errorf("%q does not say which notifier failed", got)
			}
		})
	}
	if got := delivery.NetError(cases[1].err, r, "slack chat"); got.Reason != "timeout" || !got.Retryable {
		t.Errorf("a deadline through a url.Error = %+v, want a retryable timeout", got)
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("héllo wörld", 5)
	f.Add("日本語のテキスト", 7)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 4 || max > 1<<20 {
			return
		}
		got := delivery.Truncate(s, max)
		if len(got) > max {
			t.Errorf("Truncate(%q, %d) = %d bytes", s, max, len(got))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("cut inside a character: %q", got)
		}
	})
}
