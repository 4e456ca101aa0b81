package ingest

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// tokens is the set of accepted bearer tokens. Only their SHA-256 digests
// are kept, so comparisons run over fixed-length values and take the same
// time whichever token (if any) matches.
type tokens struct {
	digests atomic.Pointer[[][sha256.Size]byte]
}

func (t *tokens) set(list []string) {
	d := make([][sha256.Size]byte, 0, len(list))
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			d = append(d, sha256.Sum256([]byte(s)))
		}
	}
	t.digests.Store(&d)
}

// required reports whether requests must present a token.
func (t *tokens) required() bool {
	d := t.digests.Load()
	return d != nil && len(*d) > 0
}

// allow checks an Authorization header value ("Bearer <token>").
func (t *tokens) allow(header string) bool {
	d := t.digests.Load()
	if d == nil || len(*d) == 0 {
		return true
	}
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := 0
	for i := range *d {
		match |= subtle.ConstantTimeCompare(got[:], (*d)[i][:])
	}
	return match == 1
}

// ReadTokens reads ingest tokens from an environment variable (comma or
// newline separated) and a file (one per line, # comments), either optional.
// Several tokens let clients rotate without downtime. Errors never include
// a token.
func ReadTokens(envName, file string) ([]string, error) {
	var out []string
	if envName != "" {
		v, ok := os.LookupEnv(envName)
		if !ok {
			return nil, fmt.Errorf("ingest tokens: environment variable %s is not set", envName)
		}
		out = append(out, splitTokens(v)...)
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("ingest tokens: %w", err)
		}
		out = append(out, splitTokens(string(b))...)
	}
	if (envName != "" || file != "") && len(out) == 0 {
		return nil, errors.New("ingest tokens: no token found")
	}
	return out, nil
}

func splitTokens(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
