package pagerduty

import (
	"testing"
	"unicode/utf8"
)

// Error bodies come from the network: the rendered message stays short and
// valid text whatever PagerDuty (or a proxy in front of it) answers.
func FuzzAPIMessage(f *testing.F) {
	for _, s := range []string{`{"status":"invalid event","message":"Event object is invalid","errors":["x"]}`,
		`<html>502 Bad Gateway</html>`, ``, `{"message":""}`, `{"errors":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m := apiMessage(body)
		if len(m) > 1024 {
			t.Errorf("message of %d bytes", len(m))
		}
		if utf8.Valid(body) && !utf8.ValidString(m) {
			t.Errorf("valid body rendered as invalid text %q", m)
		}
	})
}
