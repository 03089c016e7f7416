package db

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cache news between the processes of one PostgreSQL database
// (app/news.go): NOTIFY on one channel, LISTEN on a connection of its
// own in each process. PostgreSQL delivers a notification only after
// the transaction that sent it has committed, in commit order, to every
// listening session; a payload is at most 8,000 bytes (ours are tens).

const newsChannel = "voucherd_news"

// Publish sends news to every process listening on this database. On
// SQLite there is one process: nothing to send.
func (s *Store) Publish(ctx context.Context, news string) error {
	if !s.Postgres() {
		return nil
	}
	_, err := s.w.ExecContext(ctx, `SELECT pg_notify(?, ?)`, newsChannel, news)
	return err
}

// Listener is what Listen tells: each piece of news (Apply; "" when news
// may have been missed), that listening has begun (Ready, optional), and
// a lost connection (Failed, optional) before it tries again.
type Listener struct {
	Apply  func(news string)
	Ready  func()
	Failed func(err error)
}

// Listen hands l.Apply each piece of news any process publishes, until
// ctx ends. Whenever it (re)connects it first applies "" (news may have
// been missed while it was not listening), then waits; a lost connection
// is tried again after a second. On SQLite it returns at once.
func (s *Store) Listen(ctx context.Context, l Listener) {
	if !s.Postgres() {
		return
	}
	for {
		err := s.listenOnce(ctx, l)
		if ctx.Err() != nil {
			return
		}
		if l.Failed != nil {
			l.Failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, l Listener) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+newsChannel); err != nil {
		return err
	}
	l.Apply("") // whatever happened before this LISTEN was not heard
	if l.Ready != nil {
		l.Ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == "" {
			continue // "" is ours to mean "everything": never take it from the wire
		}
		l.Apply(n.Payload)
	}
}
