package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// LogFile is the notification log's name in the data directory.
const LogFile = "notifications.json"

// logEntry is what one notifier was last told about one alert or zone, so
// that after a restart spanslo neither pages again for an alert it already
// paged nor forgets to resolve it.
type logEntry struct {
	Notifier string `json:"notifier"`
	Key      string `json:"key"`
	// Firing: a trigger was delivered and no resolve yet.
	Firing bool `json:"firing,omitempty"`
	// Alert is the last alert delivered, to repeat it and to resolve it.
	Alert *burnrate.Alert `json:"alert,omitempty"`
	// Zone is the last zone delivered for a zone key.
	Zone      slo.Zone  `json:"zone,omitempty"`
	FirstSent time.Time `json:"first_sent"`
	LastSent  time.Time `json:"last_sent"`
}

// nlog is the notification log, persisted as one JSON file replaced
// atomically (write a temporary file, sync, rename) after every change, so
// a crash leaves the old or the new log, never half of one.
type nlog struct {
	path    string // "" keeps the log in memory only
	mu      sync.Mutex
	entries map[string]*logEntry
}

func logKey(notifier, key string) string { return notifier + "\x00" + key }

// openLog reads the log in dir; a missing file is an empty log. Temporary
// files a crash left behind are removed: only one spanslo uses a data
// directory, so none of them is being written.
func openLog(dir string, logger *slog.Logger) (*nlog, error) {
	l := &nlog{entries: map[string]*logEntry{}}
	if dir == "" {
		return l, nil
	}
	l.path = filepath.Join(dir, LogFile)
	removeStaleTemps(dir, logger)
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read notification log: %w", err)
	}
	var file struct {
		Entries []*logEntry `json:"entries"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("read notification log %s: %w", l.path, err)
	}
	for _, e := range file.Entries {
		l.entries[logKey(e.Notifier, e.Key)] = e
	}
	return l, nil
}

// removeStaleTemps deletes the temporary files of writeAtomic an
// interrupted save left in dir.
func removeStaleTemps(dir string, logger *slog.Logger) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return // reading the log reports what is wrong with dir
	}
	for _, de := range des {
		if name := de.Name(); de.Type().IsRegular() && strings.HasPrefix(name, LogFile+".tmp") {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				logger.Warn("stale notification log file not removed", "file", name, "error", err)
			} else {
				logger.Info("removed a notification log file an interrupted save left", "file", name)
			}
		}
	}
}

func (l *nlog) get(notifier, key string) (logEntry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[logKey(notifier, key)]
	if !ok {
		return logEntry{}, false
	}
	return *e, true
}

// firing lists the notifier's alerts delivered as firing.
func (l *nlog) firing(notifier string) []logEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logEntry
	for _, e := range l.entries {
		if e.Notifier == notifier && e.Firing && e.Alert != nil {
			out = append(out, *e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// forget drops the entries of notifiers keep refuses, returning the firing
// ones, and persists when anything was dropped.
func (l *nlog) forget(keep func(notifier string) bool) ([]logEntry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var firing []logEntry
	dropped := false
	for k, e := range l.entries {
		if keep(e.Notifier) {
			continue
		}
		if e.Firing {
			firing = append(firing, *e)
		}
		delete(l.entries, k)
		dropped = true
	}
	sort.Slice(firing, func(i, j int) bool { return firing[i].Key < firing[j].Key })
	if !dropped {
		return nil, nil
	}
	return firing, l.saveLocked()
}

// update applies changes (a nil entry deletes its key) and persists.
func (l *nlog) update(changes map[string]*logEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range changes {
		if e == nil {
			delete(l.entries, k)
		} else {
			l.entries[k] = e
		}
	}
	return l.saveLocked()
}

func (l *nlog) saveLocked() error {
	if l.path == "" {
		return nil
	}
	keys := make([]string, 0, len(l.entries))
	for k := range l.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var file struct {
		Entries []*logEntry `json:"entries"`
	}
	file.Entries = make([]*logEntry, 0, len(keys))
	for _, k := range keys {
		file.Entries = append(file.Entries, l.entries[k])
	}
	data, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return fmt.Errorf("encode notification log: %w", err)
	}
	return writeAtomic(l.path, data)
}

// writeAtomic replaces path with data via a synced temporary file and a
// rename in the same directory.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write notification log: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write notification log: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not all systems support it
		d.Close()
	}
	return nil
}
