package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestTokenFileChangesRotateTheTokens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := newTokenSource("", file)
	if err != nil || !slices.Equal(ts.current, []string{"first"}) {
		t.Fatalf("tokens %v, err %v", ts.current, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	applied := make(chan []string, 4)
	go ts.watch(ctx, time.Millisecond, func(l []string) { applied <- l }, slog.New(slog.DiscardHandler))

	if err := os.WriteFile(file, []byte("first\nsecond\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute) // a distinct modification time
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-applied:
		if !slices.Equal(got, []string{"first", "second"}) {
			t.Fatalf("applied %v, want [first second]", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the changed token file was not applied")
	}
}

func TestMissingTokenSourcesAreErrorsWithoutSecrets(t *testing.T) {
	if _, err := newTokenSource("SPANSLO_TEST_UNSET_TOKENS", ""); err == nil {
		t.Error("an unset token variable was accepted")
	}
	if _, err := newTokenSource("", filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("a missing token file was accepted")
	}
	t.Setenv("SPANSLO_TEST_EMPTY_TOKENS", " , ")
	if _, err := newTokenSource("SPANSLO_TEST_EMPTY_TOKENS", ""); err == nil {
		t.Error("a variable without tokens was accepted")
	}
}
