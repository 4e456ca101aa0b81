package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/spanslo/spanslo/slo"
)

// A state file is an envelope around a payload:
//
//	magic (8 bytes) · version (uint16) · payload length (uint64) · payload · CRC-32C (uint32)
//
// all big-endian, the checksum over everything before it. A torn or
// garbled file fails the length or checksum test and is never half-read.
const (
	snapMagic   = "SPSLSNAP"
	blobMagic   = "SPSLBLOB"
	snapVersion = 1
	blobVersion = 1
	headerLen   = 8 + 2 + 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt marks a state file that exists but cannot be trusted.
var errCorrupt = errors.New("corrupt state file")

func seal(magic string, version uint16, payload []byte) []byte {
	out := make([]byte, headerLen, headerLen+len(payload)+4)
	return sealed(magic, version, append(out, payload...))
}

// sealed completes an envelope whose payload was written after headerLen
// reserved bytes, saving a copy of large payloads.
func sealed(magic string, version uint16, out []byte) []byte {
	copy(out, magic)
	binary.BigEndian.PutUint16(out[8:], version)
	binary.BigEndian.PutUint64(out[10:], uint64(len(out)-headerLen))
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(out, crcTable))
}

func unseal(magic string, version uint16, data []byte) ([]byte, error) {
	if len(data) < headerLen+4 || string(data[:8]) != magic {
		return nil, fmt.Errorf("%w: bad header", errCorrupt)
	}
	if v := binary.BigEndian.Uint16(data[8:]); v != version {
		return nil, fmt.Errorf("%w: version %d, want %d", errCorrupt, v, version)
	}
	n := binary.BigEndian.Uint64(data[10:])
	if n != uint64(len(data)-headerLen-4) {
		return nil, fmt.Errorf("%w: length %d does not match the file", errCorrupt, n)
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(data[len(data)-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	return body[headerLen:], nil
}

// writeAtomic replaces path with data so that a crash leaves either the old
// file or the new one: write a temporary file, fsync it, rename it over the
// old one, fsync the directory.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// snapshot is the decoded counters file.
type snapshot struct {
	Taken  time.Time
	States []slo.SeriesState
}

func encodeSnapshot(s snapshot) []byte {
	size := headerLen + 64
	for i := range s.States {
		size += 128 + 19*(len(s.States[i].Fine.Buckets)+len(s.States[i].Coarse.Buckets)) + 26*len(s.States[i].Examples)
	}
	e := encoder{b: make([]byte, headerLen, size)}
	e.varint(s.Taken.UnixNano())
	e.uvarint(uint64(len(s.States)))
	for i := range s.States {
		st := &s.States[i]
		e.str(st.SLO)
		e.strs(st.GroupBy)
		e.strs(st.Labels)
		e.varint(st.AlignMinutes)
		e.ring(st.Fine)
		e.ring(st.Coarse)
		e.counts(st.Cumulative)
		e.uvarint(uint64(len(st.Examples)))
		for _, ex := range st.Examples {
			e.b = append(e.b, ex.TraceID[:]...)
			e.varint(ex.EndUnix)
		}
	}
	return sealed(snapMagic, snapVersion, e.b)
}

func decodeSnapshot(data []byte) (snapshot, error) {
	payload, err := unseal(snapMagic, snapVersion, data)
	if err != nil {
		return snapshot{}, err
	}
	d := decoder{b: payload}
	s := snapshot{Taken: time.Unix(0, d.varint())}
	n := d.count(1)
	for i := 0; i < n && d.err == nil; i++ {
		st := slo.SeriesState{SLO: d.str(), GroupBy: d.strs(), Labels: d.strs(), AlignMinutes: d.varint()}
		st.Fine, st.Coarse = d.ring(), d.ring()
		st.Cumulative = d.counts()
		k := d.count(17)
		for j := 0; j < k && d.err == nil; j++ {
			var ex slo.Example
			copy(ex.TraceID[:], d.bytes(16))
			ex.EndUnix = d.varint()
			st.Examples = append(st.Examples, ex)
		}
		s.States = append(s.States, st)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return snapshot{}, fmt.Errorf("%w: %v", errCorrupt, d.err)
	}
	return s, nil
}

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) float(f float64)  { e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(f)) }
func (e *encoder) counts(c slo.Counts) {
	e.float(c.Good)
	e.float(c.Total)
}

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// ring writes the head and each non-empty bucket as its distance back from
// the head, oldest (farthest) first.
func (e *encoder) ring(r slo.RingState) {
	e.varint(r.Head)
	e.uvarint(uint64(len(r.Buckets)))
	for _, b := range r.Buckets {
		e.uvarint(uint64(r.Head - b.Index))
		e.counts(b.Counts)
	}
}

// decoder reads what encoder wrote, checking every length against what is
// left so a garbled file cannot make it allocate or read out of range.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = errors.New(msg)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length whose items take at least minBytes each.
func (d *decoder) count(minBytes int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/minBytes) {
		d.fail("length beyond the data")
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int) []byte {
	if n > len(d.b) {
		d.fail("short data")
		return make([]byte, n)
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) float() float64 { return math.Float64frombits(binary.BigEndian.Uint64(d.bytes(8))) }

func (d *decoder) counts() slo.Counts { return slo.Counts{Good: d.float(), Total: d.float()} }

func (d *decoder) str() string { return string(d.bytes(d.count(1))) }

func (d *decoder) strs() []string {
	n := d.count(1)
	var out []string
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.str())
	}
	return out
}

// maxDistance bounds how far back from its head a decoded bucket may be:
// a year of minutes is far beyond any window.
const maxDistance = 366 * 24 * 60

func (d *decoder) ring() slo.RingState {
	r := slo.RingState{Head: d.varint()}
	n := d.count(17)
	prev := uint64(math.MaxUint64)
	for range n {
		dist := d.uvarint()
		if d.err != nil {
			break
		}
		if dist >= prev || dist > maxDistance {
			d.fail("buckets out of order or range")
			break
		}
		prev = dist
		r.Buckets = append(r.Buckets, slo.Bucket{Index: r.Head - int64(dist), Counts: d.counts()})
	}
	return r
}

var blobName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func (s *Store) blobPath(name string) (string, error) {
	if !blobName.MatchString(name) {
		return "", fmt.Errorf("blob name %q: use lowercase letters, digits, '.', '_' and '-'", name)
	}
	return filepath.Join(s.stateDir, name+".blob"), nil
}

// SaveBlob stores data under name, atomically: after a crash LoadBlob
// returns either the previous data or this one. Components that keep their
// own state (the alert evaluator, the notifier's dedup log) persist it here.
func (s *Store) SaveBlob(name string, data []byte) error {
	path, err := s.blobPath(name)
	if err != nil {
		return err
	}
	if err := writeAtomic(path, seal(blobMagic, blobVersion, data)); err != nil {
		return fmt.Errorf("save blob %s: %w", name, err)
	}
	return nil
}

// LoadBlob returns the data last saved under name; an error wrapping
// fs.ErrNotExist when there is none, and one saying so when the file is
// corrupt.
func (s *Store) LoadBlob(name string) ([]byte, error) {
	path, err := s.blobPath(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load blob %s: %w", name, err)
	}
	payload, err := unseal(blobMagic, blobVersion, data)
	if err != nil {
		return nil, fmt.Errorf("load blob %s: %w", name, err)
	}
	return payload, nil
}
