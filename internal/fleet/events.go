package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// The event stream is one Redis stream that every replica reads from where it left off
// (XREAD BLOCK), so an event published on one replica reaches the others in about a
// round trip, and a replica that was cut off reads what it missed when it is back.
// What it cannot read again it detects: the stream is trimmed to streamMaxLen entries
// (a gap shows as an entry after the last one read having been deleted), and Redis may
// come back empty (a restart without persistence; the epoch key, set once per data set,
// changes). Either way the OnLost handlers run: the cache drops everything, because it
// cannot prove any entry was not invalidated meanwhile, and the revocation list is
// written back from this replica's copy and read again.

// streamMaxLen bounds the stream (approximately: MAXLEN ~).
const streamMaxLen = 100000

// blockFor is how long one XREAD waits for new events; it is also how often a quiet
// replica confirms it is in sync.
const blockFor = time.Second

// keys are the Redis keys of one fleet.
type keys struct {
	prefix      string // "{prefix}:"
	events      string
	epoch       string
	replicas    string
	revocations string
}

func newKeys(prefix string) keys {
	p := "{" + prefix + "}:"
	return keys{prefix: p, events: p + "events", epoch: p + "epoch", replicas: p + "replicas", revocations: p + "revocations"}
}

// Event is one entry of the stream.
type Event struct {
	ID      string // the stream entry ID
	Replica string // who published it
	Kind    string
	Data    []byte
	// Mine is set on events this replica published.
	Mine bool
}

// Handle registers fn for events of kind; it runs on the stream reader's goroutine, in
// stream order, for this replica's own events too (Event.Mine). Call before Start.
func (f *Fleet) Handle(kind string, fn func(Event)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[kind] = append(f.handlers[kind], fn)
}

// OnLost registers fn to run when this replica may have missed events: Redis lost its
// data, or the stream was trimmed past what the replica had read. It runs before the
// OnSync handlers of the same resynchronisation. Call before Start.
func (f *Fleet) OnLost(fn func(reason string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onLost = append(f.onLost, fn)
}

// OnSync registers fn to run each time the replica (re)connects to the stream, after
// its position is fixed: what fn reads from Redis then is at least as new as every
// event the reader will deliver next. Call before Start.
func (f *Fleet) OnSync(fn func(at time.Time)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onSync = append(f.onSync, fn)
}

// Publish appends an event to the stream and returns its ID.
func (f *Fleet) Publish(ctx context.Context, kind string, data []byte) (string, error) {
	res, err := f.do(ctx, func(c rueidis.Client) rueidis.Completed {
		return c.B().Xadd().Key(f.keys.events).Maxlen().Almost().Threshold(strconv.Itoa(streamMaxLen)).Id("*").
			FieldValue().FieldValue("r", f.id).FieldValue("k", kind).FieldValue("d", string(data)).Build()
	})
	if err != nil {
		return "", err
	}
	return res.ToString()
}

// streamState is the reader's position and when it last knew it was complete.
type streamState struct {
	mu     sync.Mutex
	epoch  string // the epoch key's value when the position was fixed
	last   string // last entry ID read
	synced atomic.Int64
}

func (s *streamState) lastSync() time.Time {
	if n := s.synced.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// LastSync is when this replica last knew it had read every event published before.
func (f *Fleet) LastSync() time.Time { return f.stream.lastSync() }

// readStream reads events until ctx ends, resynchronising after every error.
func (f *Fleet) readStream(ctx context.Context) {
	needSync := true
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if needSync {
			if err := f.resync(ctx); err != nil {
				f.observe(err)
				f.log.Debug("redis: resynchronising the event stream failed", "error", err.Error())
				sleep(ctx, backoff)
				// At most half a second: every attempt is a few commands bounded by
				// redis.timeout, and a replica should be back within about a second of
				// Redis (docs/fleet.md).
				backoff = min(2*backoff, 500*time.Millisecond)
				continue
			}
			needSync, backoff = false, 100*time.Millisecond
		}
		if f.epochChanged.Swap(false) { // seen by the heartbeat: flushed under a live connection
			needSync = true
			continue
		}
		if err := f.readOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.observe(err)
			needSync = true
			sleep(ctx, backoff)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// readOnce waits up to blockFor for events after the last one read, and dispatches them.
func (f *Fleet) readOnce(ctx context.Context) error {
	c := f.c()
	asked := f.now()
	cctx, cancel := context.WithTimeout(ctx, blockFor+f.cfg.Timeout)
	defer cancel()
	f.stream.mu.Lock()
	last := f.stream.last
	f.stream.mu.Unlock()
	res, err := c.Do(cctx, c.B().Xread().Count(1000).Block(blockFor.Milliseconds()).Streams().Key(f.keys.events).Id(last).Build()).AsXRead()
	if err != nil && !rueidis.IsRedisNil(err) {
		return err
	}
	f.setUp()
	for _, e := range res[f.keys.events] {
		f.dispatch(e)
	}
	f.synced(asked)
	if len(res[f.keys.events]) > 0 {
		select { // tell waiting publishers (WaitApplied) how far this replica read
		case f.beatNow <- struct{}{}:
		default:
		}
	}
	return nil
}

// synced records that every event published before at has been read.
func (f *Fleet) synced(at time.Time) {
	f.stream.synced.Store(at.UnixNano())
	f.mu.Lock()
	fns := f.onRead
	f.mu.Unlock()
	for _, fn := range fns {
		fn(at)
	}
}

func (f *Fleet) dispatch(e rueidis.XRangeEntry) {
	f.stream.mu.Lock()
	f.stream.last = e.ID
	f.stream.mu.Unlock()
	ev := Event{ID: e.ID, Replica: e.FieldValues["r"], Kind: e.FieldValues["k"], Data: []byte(e.FieldValues["d"])}
	ev.Mine = ev.Replica == f.id
	f.mu.Lock()
	hs := f.handlers[ev.Kind]
	f.mu.Unlock()
	for _, h := range hs {
		h(ev)
	}
}

// resync fixes the reader's position after a (re)connection: it reads the epoch (making
// one if Redis has none), decides whether events were lost, runs OnLost and OnSync.
func (f *Fleet) resync(ctx context.Context) error {
	c := f.c()
	if c == nil {
		return errNotConnected
	}
	cctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	b := make([]byte, 16)
	rand.Read(b)
	if err := c.Do(cctx, c.B().Set().Key(f.keys.epoch).Value(hex.EncodeToString(b)).Nx().Build()).Error(); err != nil && !rueidis.IsRedisNil(err) {
		return err
	}
	epoch, err := c.Do(cctx, c.B().Get().Key(f.keys.epoch).Build()).ToString()
	if err != nil {
		return err
	}
	tail, err := f.tailID(cctx, c)
	if err != nil {
		return err
	}
	f.stream.mu.Lock()
	prevEpoch, last := f.stream.epoch, f.stream.last
	f.stream.mu.Unlock()
	lost := ""
	switch {
	case prevEpoch == "":
		last = tail // the first connection: start at the end
	case prevEpoch != epoch:
		lost, last = "Redis lost its data (restarted without persistence, failed over to an empty replica, or flushed)", tail
	default:
		gap, err := f.missed(cctx, c, last)
		if err != nil {
			return err
		}
		if gap {
			lost, last = "events this replica had not read were trimmed from the stream", tail
		}
	}
	f.stream.mu.Lock()
	f.stream.epoch, f.stream.last = epoch, last
	f.stream.mu.Unlock()
	f.setUp()
	f.mu.Lock()
	onLost, onSync := f.onLost, f.onSync
	f.mu.Unlock()
	if lost != "" {
		f.log.Warn("redis: events may have been missed; dropping what cannot be proven current", "reason", lost)
		for _, fn := range onLost {
			fn(lost)
		}
	}
	now := f.now()
	for _, fn := range onSync {
		fn(now)
	}
	f.synced(now)
	return nil
}

// tailID is the ID of the stream's last entry, "0-0" when it is empty or missing.
func (f *Fleet) tailID(ctx context.Context, c rueidis.Client) (string, error) {
	es, err := c.Do(ctx, c.B().Xrevrange().Key(f.keys.events).End("+").Start("-").Count(1).Build()).AsXRange()
	if err != nil {
		return "", err
	}
	if len(es) == 0 {
		return "0-0", nil
	}
	return es[0].ID, nil
}

// missed reports whether entries after last may have been deleted from the stream
// (trimmed) before this replica read them, or the stream itself is gone. Trimming
// removes the oldest entries first, so while the last entry read is still there,
// nothing after it is missing. (XINFO's max-deleted-entry-id does not count trimmed
// entries, so it cannot say.)
func (f *Fleet) missed(ctx context.Context, c rueidis.Client, last string) (bool, error) {
	if last == "0-0" { // the stream was empty: lost if entries were added and trimmed since
		info, err := c.Do(ctx, c.B().XinfoStream().Key(f.keys.events).Build()).AsMap()
		if err != nil {
			if e, ok := rueidis.IsRedisErr(err); ok && strings.Contains(strings.ToLower(e.Error()), "no such key") {
				return false, nil
			}
			return false, err
		}
		am, lm := info["entries-added"], info["length"] // entries-added: Redis 7.0 and later
		added, err1 := am.AsInt64()
		length, err2 := lm.AsInt64()
		return err1 == nil && err2 == nil && added > length, nil
	}
	es, err := c.Do(ctx, c.B().Xrange().Key(f.keys.events).Start(last).End(last).Count(1).Build()).AsXRange()
	if err != nil {
		return false, err
	}
	return len(es) == 0, nil
}

// idLess compares stream entry IDs ("ms-seq").
func idLess(a, b string) bool {
	am, as := splitID(a)
	bm, bs := splitID(b)
	return am < bm || am == bm && as < bs
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}

// replica is one entry of the replica table.
type replica struct {
	Seen string `json:"seen"` // last stream entry read
	At   int64  `json:"at"`   // unix milliseconds of the beat
}

// beatEvery is how often a replica writes its entry; replicas silent for liveFor are
// not counted, and entries older than forgetAfter are removed.
const (
	beatEvery   = time.Second
	liveFor     = 5 * time.Second
	forgetAfter = time.Minute
)

// heartbeat writes this replica's entry every beatEvery (and when asked to, after an
// invalidation was applied) until ctx ends.
func (f *Fleet) heartbeat(ctx context.Context) {
	t := time.NewTicker(beatEvery)
	defer t.Stop()
	for {
		f.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.beatNow:
		}
	}
}

// beat writes this replica's entry and counts the live ones.
func (f *Fleet) beat(ctx context.Context) {
	f.stream.mu.Lock()
	seen, epoch := f.stream.last, f.stream.epoch
	f.stream.mu.Unlock()
	// Redis can lose its data without a connection failing (FLUSHALL, a replica made
	// master without a reconnection): the reader only resynchronises after an error, so
	// the heartbeat compares the epoch key too.
	if epoch != "" {
		res, err := f.do(ctx, func(c rueidis.Client) rueidis.Completed { return c.B().Get().Key(f.keys.epoch).Build() })
		if now, gerr := res.ToString(); rueidis.IsRedisNil(err) || err == nil && gerr == nil && now != epoch {
			f.epochChanged.Store(true)
		}
	}
	now := f.now()
	v, _ := json.Marshal(replica{Seen: seen, At: now.UnixMilli()})
	if _, err := f.do(ctx, func(c rueidis.Client) rueidis.Completed {
		return c.B().Hset().Key(f.keys.replicas).FieldValue().FieldValue(f.id, string(v)).Build()
	}); err != nil {
		return
	}
	all, err := f.replicas(ctx)
	if err != nil {
		return
	}
	live := 0
	var stale []string
	for id, r := range all {
		age := now.Sub(time.UnixMilli(r.At))
		switch {
		case age < liveFor:
			live++
		case age > forgetAfter:
			stale = append(stale, id)
		}
	}
	f.liveReplicas.Store(int32(live))
	if len(stale) > 0 {
		f.do(ctx, func(c rueidis.Client) rueidis.Completed {
			return c.B().Hdel().Key(f.keys.replicas).Field(stale...).Build()
		})
	}
}

// replicas reads the replica table.
func (f *Fleet) replicas(ctx context.Context) (map[string]replica, error) {
	res, err := f.do(ctx, func(c rueidis.Client) rueidis.Completed {
		return c.B().Hgetall().Key(f.keys.replicas).Build()
	})
	if err != nil {
		return nil, err
	}
	m, err := res.AsStrMap()
	if err != nil {
		return nil, err
	}
	out := make(map[string]replica, len(m))
	for id, v := range m {
		var r replica
		if json.Unmarshal([]byte(v), &r) == nil {
			out[id] = r
		}
	}
	return out, nil
}

// Applied is how far the live replicas have read the stream.
type Applied struct {
	Replicas int `json:"replicas"` // live replicas
	Applied  int `json:"applied"`  // of them, those that read the event
}

// WaitApplied waits until every live replica has read the event id, or until timeout,
// and says how many had.
func (f *Fleet) WaitApplied(ctx context.Context, id string, timeout time.Duration) (Applied, error) {
	deadline := time.Now().Add(timeout)
	for {
		all, err := f.replicas(ctx)
		if err != nil {
			return Applied{}, err
		}
		var a Applied
		now := f.now()
		for _, r := range all {
			if now.Sub(time.UnixMilli(r.At)) >= liveFor {
				continue
			}
			a.Replicas++
			if !idLess(r.Seen, id) {
				a.Applied++
			}
		}
		if a.Applied >= a.Replicas || time.Now().After(deadline) {
			return a, nil
		}
		select {
		case <-ctx.Done():
			return a, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
