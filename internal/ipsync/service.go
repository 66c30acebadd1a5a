package ipsync

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/sns"
)

// Notification is the Message of an AmazonIpSpaceChanged notification.
type Notification struct {
	CreateTime string `json:"create-time"`
	SyncToken  string `json:"synctoken"`
	MD5        string `json:"md5"`
	URL        string `json:"url"`
}

// Token is the syncToken as a number.
func (n *Notification) Token() int64 {
	t, _ := strconv.ParseInt(n.SyncToken, 10, 64)
	return t
}

// ParseNotification reads an AmazonIpSpaceChanged message: a JSON object whose
// synctoken is a positive number and whose md5 is 32 hex digits. Unknown fields are
// ignored.
func ParseNotification(msg string) (*Notification, error) {
	var n Notification
	dec := json.NewDecoder(strings.NewReader(msg))
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("not an AmazonIpSpaceChanged message: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not an AmazonIpSpaceChanged message: data after the object")
	}
	if t, err := strconv.ParseInt(n.SyncToken, 10, 64); err != nil || t <= 0 {
		return nil, fmt.Errorf("synctoken %q is not a positive number", n.SyncToken)
	}
	if b, err := hex.DecodeString(n.MD5); err != nil || len(b) != 16 {
		return nil, fmt.Errorf("md5 %q is not 32 hex digits", n.MD5)
	}
	n.MD5 = strings.ToLower(n.MD5)
	return &n, nil
}

// Result is one run of the service: what started it and how it ended.
type Result struct {
	// Trigger is "start", "poll", "schedule" (Lambda) or "notification".
	Trigger   string
	SyncToken string
	Outcome   *Outcome
	// Skipped says why nothing was attempted (e.g. a syncToken already applied).
	Skipped string
	Err     error
}

// Service keeps the targets in sync from SNS notifications and a periodic poll: the
// engine of `gatehouse ipranges serve` and of LambdaHandler. Runs never overlap: a
// single worker makes them, one at a time.
type Service struct {
	Syncer   *Syncer
	Verifier *sns.Verifier
	Log      *slog.Logger
	// MD5Attempts is how many times a notification's file is fetched until its md5
	// matches (the file may reach the download servers after the notification); default
	// 3, MD5Wait apart (default 20s).
	MD5Attempts int
	MD5Wait     time.Duration
	// OnResult, when set, sees each run's result (tests, metrics).
	OnResult func(Result)

	mu      sync.Mutex
	applied int64              // last syncToken applied
	queue   chan *Notification // capacity 1: a newer notification replaces a waiting one
	last    *Result
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// LoadState reads the last applied syncToken from the configured state file, if any.
func (s *Service) LoadState() error {
	path := s.Syncer.Config.SNS.StateFile
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	t, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: not a syncToken: %w", path, err)
	}
	s.mu.Lock()
	s.applied = t
	s.mu.Unlock()
	return nil
}

func (s *Service) saveState(token int64) {
	path := s.Syncer.Config.SNS.StateFile
	if path == "" {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ipranges-state-*")
	if err == nil {
		_, err = fmt.Fprintln(tmp, token)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		s.log().Error("cannot save the applied syncToken", "file", path, "err", err)
	}
}

// Applied is the last syncToken applied (0: none yet).
func (s *Service) Applied() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

// Handler is the SNS endpoint: sns.Handler with this service's verifier, whose verified
// notifications are checked and queued for the worker (Run).
func (s *Service) Handler() http.Handler {
	return &sns.Handler{Verifier: s.Verifier, Log: s.log(), Notify: s.enqueue}
}

// accept checks a verified notification's content and its syncToken against the last
// one applied. A nil notification with a nil error means: ignore it.
func (s *Service) accept(m *sns.Message) (*Notification, error) {
	n, err := ParseNotification(m.Message)
	if err != nil {
		s.log().Warn("refused notification: "+err.Error(), "topic", m.TopicARN, "message_id", m.MessageID)
		return nil, nil // a well-signed but odd message: redelivery would not help
	}
	if applied := s.Applied(); n.Token() <= applied {
		s.log().Info("ignored notification: syncToken not newer than the last applied", "synctoken", n.SyncToken, "applied", applied, "message_id", m.MessageID)
		return nil, nil
	}
	return n, nil
}

func (s *Service) enqueue(_ context.Context, m *sns.Message) error {
	n, err := s.accept(m)
	if n == nil || err != nil {
		return err
	}
	s.mu.Lock()
	q := s.queue
	s.mu.Unlock()
	if q == nil {
		return errors.New("the sync worker is not running")
	}
	for {
		select {
		case q <- n:
			s.log().Info("notification queued", "synctoken", n.SyncToken, "message_id", m.MessageID)
			return nil
		default:
		}
		select { // replace a waiting, older notification
		case old := <-q:
			if old.Token() > n.Token() {
				n = old
			}
		default:
		}
	}
}

// Run syncs once at start, then on each queued notification and every poll interval,
// until ctx ends. Handler's notifications are processed only while Run runs.
func (s *Service) Run(ctx context.Context) error {
	q := make(chan *Notification, 1)
	s.mu.Lock()
	s.queue = q
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.queue = nil
		s.mu.Unlock()
	}()
	s.report(s.Poll(ctx, "start"))
	tick := time.NewTicker(s.Syncer.Config.SNS.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-q:
			s.report(s.Process(ctx, n))
		case <-tick.C:
			s.report(s.Poll(ctx, "poll"))
		}
	}
}

func (s *Service) report(r Result) {
	s.mu.Lock()
	s.last = &r
	s.mu.Unlock()
	log := s.log().With("trigger", r.Trigger, "synctoken", r.SyncToken)
	switch {
	case r.Skipped != "":
		log.Info("sync skipped: " + r.Skipped)
	case r.Err != nil:
		log.Error("sync failed", "err", r.Err)
	default:
		log.Info("sync done", "calls", len(r.Outcome.Applied), "problems", len(r.Outcome.Problems()))
		for _, p := range r.Outcome.Problems() {
			log.Warn("sync cannot: " + p)
		}
	}
	if s.OnResult != nil {
		s.OnResult(r)
	}
}

// Poll fetches the list and syncs whatever its syncToken: the plan of an unchanged list
// is empty, so a poll costs only reads, and it repairs drift (a group deleted or a rule
// revoked by hand).
func (s *Service) Poll(ctx context.Context, trigger string) Result {
	r := Result{Trigger: trigger}
	snap, err := s.Syncer.Read(ctx)
	if err != nil {
		r.Err = err
		return r
	}
	r.SyncToken = snap.SyncToken
	return s.sync(ctx, snap, r)
}

// Process handles one accepted notification: fetch the configured source until its md5
// matches the notification's (MD5Attempts times), then sync. The file is always read
// from the configured source, never from a URL in the message.
func (s *Service) Process(ctx context.Context, n *Notification) Result {
	r := Result{Trigger: "notification", SyncToken: n.SyncToken}
	if applied := s.Applied(); n.Token() <= applied {
		r.Skipped = fmt.Sprintf("syncToken %s not newer than %d", n.SyncToken, applied)
		return r
	}
	if src := s.Syncer.Config.Source.URL; n.URL != "" && src != "" && n.URL != src {
		s.log().Warn("the notification names another URL than the configured source: reading the configured one", "url", n.URL, "source", src)
	}
	attempts, wait := s.MD5Attempts, s.MD5Wait
	if attempts <= 0 {
		attempts = 3
	}
	if wait <= 0 {
		wait = 20 * time.Second
	}
	for i := 1; ; i++ {
		snap, err := s.Syncer.Read(ctx)
		switch {
		case err != nil:
			r.Err = err
		case snap.MD5 != n.MD5:
			r.Err = fmt.Errorf("refused notification: md5 mismatch: the file read has %s (syncToken %s), the notification announces %s (syncToken %s)", snap.MD5, snap.SyncToken, n.MD5, n.SyncToken)
		default:
			return s.sync(ctx, snap, r)
		}
		if i >= attempts {
			return r
		}
		s.log().Warn("notification: retrying", "attempt", i, "err", r.Err)
		select {
		case <-ctx.Done():
			r.Err = ctx.Err()
			return r
		case <-time.After(wait):
		}
	}
}

func (s *Service) sync(ctx context.Context, snap *Snapshot, r Result) Result {
	if t, applied := snap.Token(), s.Applied(); t < applied {
		r.Skipped = fmt.Sprintf("the file read (syncToken %s) is older than the last applied (%d)", snap.SyncToken, applied)
		return r
	}
	r.Outcome, r.Err = s.Syncer.Sync(ctx, snap)
	if r.Err == nil {
		s.mu.Lock()
		advanced := snap.Token() > s.applied
		if advanced {
			s.applied = snap.Token()
		}
		s.mu.Unlock()
		if advanced {
			s.saveState(snap.Token())
		}
	}
	return r
}

// Last is the most recent run's result, or nil.
func (s *Service) Last() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// LambdaHandler handles an event delivered to a Lambda function. An SNS event
// ({"Records":[{"EventSource":"aws:sns","Sns":{...}}]}) has each record verified like an
// HTTP delivery, then processed synchronously; a scheduled EventBridge event
// ({"source":"aws.events",...}) runs a poll, as a fallback for lost notifications. It
// returns an error when a record is refused or a sync fails, so that Lambda retries the
// event. Its signature fits lambda.Start from github.com/aws/aws-lambda-go:
//
//	lambda.Start(svc.LambdaHandler)
func (s *Service) LambdaHandler(ctx context.Context, event json.RawMessage) error {
	var ev struct {
		Source  string `json:"source"`
		Records []struct {
			EventSource string          `json:"EventSource"`
			Sns         json.RawMessage `json:"Sns"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return errors.New("not an SNS or scheduled event")
	}
	if ev.Source == "aws.events" && len(ev.Records) == 0 {
		r := s.Poll(ctx, "schedule")
		s.report(r)
		return r.Err
	}
	if len(ev.Records) == 0 {
		return errors.New("not an SNS or scheduled event")
	}
	var errs []error
	for i, rec := range ev.Records {
		if rec.EventSource != "aws:sns" {
			errs = append(errs, fmt.Errorf("record %d: event source %q", i, rec.EventSource))
			continue
		}
		m, err := sns.Parse(rec.Sns)
		if err == nil {
			err = s.Verifier.Verify(ctx, m)
		}
		if err != nil {
			s.log().Warn("refused SNS record", "record", i, "reason", err)
			errs = append(errs, fmt.Errorf("record %d: %w", i, err))
			continue
		}
		n, _ := s.accept(m)
		if n == nil {
			continue
		}
		r := s.Process(ctx, n)
		s.report(r)
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("record %d: %w", i, r.Err))
		}
	}
	return errors.Join(errs...)
}
