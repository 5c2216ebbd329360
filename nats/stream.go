package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream stream management: creating or checking the stream, adding
// subjects to it, and finding the stream that stores a subject.

// streamCache remembers which stream stores each subject.
type streamCache struct {
	bySubject sync.Map   // subject → stream name
	mu        sync.Mutex // serialises stream creation and updates
	ready     bool       // the configured stream was created or checked
}

func (t *Transport) streamConfig(subjects []string) jetstream.StreamConfig {
	js := t.cfg.JetStream
	return jetstream.StreamConfig{
		Name:       js.Stream,
		Subjects:   subjects,
		Retention:  js.Retention,
		MaxAge:     js.MaxAge,
		MaxBytes:   js.MaxBytes,
		Replicas:   js.Replicas,
		Storage:    js.Storage,
		Duplicates: js.Duplicates,
	}
}

// ensureStream creates the configured stream with the configured subjects,
// or adds the subjects it misses if it exists. Other settings of an existing
// stream are left as they are.
func (t *Transport) ensureStream(ctx context.Context) error {
	t.streams.mu.Lock()
	defer t.streams.mu.Unlock()
	return t.ensureStreamLocked(ctx)
}

func (t *Transport) ensureStreamLocked(ctx context.Context) error {
	if t.streams.ready {
		return nil
	}
	if len(t.cfg.JetStream.Subjects) > 0 {
		if err := t.addSubjects(ctx, t.cfg.JetStream.Subjects); err != nil {
			return err
		}
	}
	t.streams.ready = true
	return nil
}

// addSubjects makes the configured stream capture subjects, creating it if
// needed.
func (t *Transport) addSubjects(ctx context.Context, subjects []string) error {
	name := t.cfg.JetStream.Stream
	s, err := t.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = t.js.CreateStream(ctx, t.streamConfig(subjects))
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			// Another client created it a moment ago: update that one.
			return t.addSubjects(ctx, subjects)
		}
		return t.streamErr(ctx, "create", err)
	}
	if err != nil {
		return t.streamErr(ctx, "look up", err)
	}
	cfg := s.CachedInfo().Config
	missing := false
	for _, subj := range subjects {
		if !slices.ContainsFunc(cfg.Subjects, func(f string) bool { return subjectMatches(f, subj) }) {
			cfg.Subjects = append(cfg.Subjects, subj)
			missing = true
		}
	}
	if !missing {
		return nil
	}
	_, err = t.js.UpdateStream(ctx, cfg)
	return t.streamErr(ctx, "add subjects to", err)
}

func (t *Transport) streamErr(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, natsgo.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		// Transient during a cluster election; lasting when the server
		// has no JetStream: say both.
		return transport.Unavailable(fmt.Errorf("JetStream API did not answer (is JetStream enabled on the server?): %w", err))
	}
	c := t.classify(ctx, err)
	if errors.Is(c, transport.ErrUnavailable) || c == ctx.Err() {
		return c
	}
	return fmt.Errorf("eventpub/nats: cannot %s stream %q: %w", what, t.cfg.JetStream.Stream, c)
}

// streamFor returns the stream that stores subj, adding subj to the
// configured stream when no stream does.
func (t *Transport) streamFor(ctx context.Context, subj string) (string, error) {
	if name, ok := t.streams.bySubject.Load(subj); ok {
		return name.(string), nil
	}
	t.streams.mu.Lock()
	defer t.streams.mu.Unlock()
	if name, ok := t.streams.bySubject.Load(subj); ok {
		return name.(string), nil
	}
	if err := t.ensureStreamLocked(ctx); err != nil {
		return "", err
	}
	name, err := t.js.StreamNameBySubject(ctx, subj)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if t.cfg.JetStream.FixedSubjects {
			return "", transport.Invalid(transport.ErrInvalidChannel,
				"no JetStream stream stores subject %q and FixedSubjects is set", subj)
		}
		if err = t.addSubjects(ctx, []string{subj}); err != nil {
			return "", err
		}
		name = t.cfg.JetStream.Stream
	} else if err != nil {
		return "", t.streamErr(ctx, "find the", err)
	}
	t.streams.bySubject.Store(subj, name)
	return name, nil
}
