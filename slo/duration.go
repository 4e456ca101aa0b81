package slo

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses durations the way SLO tooling writes them: Go's units
// plus d (24h) and w (7d), e.g. "30d", "1h30m", "500ms". Negative values are
// rejected.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		num, rest := s[:i], s[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		unit := rest[:j]
		s = rest[j:]
		var d time.Duration
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q", orig)
			}
			day := 24 * time.Hour
			if unit == "w" {
				day *= 7
			}
			d = time.Duration(f * float64(day))
		case "ns", "us", "µs", "ms", "s", "m", "h":
			var err error
			d, err = time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q", orig)
			}
		default:
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use ms, s, m, h, d or w)", orig, unit)
		}
		total += d
		if total < 0 {
			return 0, fmt.Errorf("invalid duration %q: too large", orig)
		}
	}
	return total, nil
}

// FormatDuration renders a duration in the units SLO configs use: "5m",
// "1h", "6h", "1d", "3d", "30d", "1h30m", "800ms".
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < time.Second || d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	units := []struct {
		name string
		len  time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	for _, u := range units {
		if u.name == "w" && d%u.len != 0 {
			continue // "10d" reads better than "1w3d"
		}
		if n := d / u.len; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.len
		}
	}
	return b.String()
}
