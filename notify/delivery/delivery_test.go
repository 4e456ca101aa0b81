package delivery_test

import (
	"errors"
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
