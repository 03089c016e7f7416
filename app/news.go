package app

import (
	"context"
	"strconv"
	"strings"
)

// Cache news across processes.
//
// Each process keeps short-lived copies of what a drop reads on every
// press (campaigns with their sold-out state, residents' sessions and
// accounts, unread counts). A process that changes one of them forgets
// its own copy, and also publishes the change through the store, so that
// every voucherd on the same database forgets theirs (PostgreSQL:
// NOTIFY/LISTEN, delivered when the change has committed; on SQLite there
// is one process and nothing to tell). A process that may have missed
// news (its connection to the server was lost) forgets everything.
// Without news a copy lives at most its cache's TTL; with it, about as
// long as the server takes to deliver a notification (docs/postgres.md).
//
// Officers' and cashiers' accounts and API keys are not cached: they are
// read on every request, so a disabled account or a revoked key is refused
// by every process at once.

// newsKind names what a piece of news is about.
type newsKind string

const (
	newsCampaign         newsKind = "campaign"          // key: campaign id
	newsSession          newsKind = "session"           // key: session token hash
	newsResident         newsKind = "resident"          // key: resident id (the account)
	newsResidentSessions newsKind = "resident-sessions" // key: resident id (every session of theirs)
	newsUnread           newsKind = "unread"            // key: resident id
	newsEverything       newsKind = "everything"        // no key: news may have been missed
)

// changed forgets this process's copy of what changed and tells the
// other processes to forget theirs. A failure to tell is logged, not
// returned: the change itself has committed, and the others' copies end
// with their TTL.
func (a *App) changed(ctx context.Context, kind newsKind, key string) {
	a.forget(kind, key)
	if err := a.store.Publish(ctx, string(kind)+":"+key); err != nil {
		a.log.WarnContext(ctx, "cache news not published; other processes keep their copies until they expire", "news", kind, "err", err)
	}
}

// ApplyNews forgets what another process (or this one) said changed. The
// store's listener calls it; "" means news may have been missed.
func (a *App) ApplyNews(news string) {
	kind, key, _ := strings.Cut(news, ":")
	if news == "" {
		kind = string(newsEverything)
	}
	a.forget(newsKind(kind), key)
}

func (a *App) forget(kind newsKind, key string) {
	id, _ := strconv.ParseInt(key, 10, 64)
	switch kind {
	case newsCampaign:
		a.campaigns.forget(id)
		a.live.forget(struct{}{})
	case newsSession:
		a.sessions.forget(key)
	case newsResident:
		a.residents.forget(id)
	case newsResidentSessions:
		a.residents.forget(id)
		a.sessions.forgetIf(func(s Session) bool { return s.Kind == KindResident && s.SubjectID == id })
	case newsUnread:
		a.unread.forget(id)
	default: // newsEverything, and news this build does not know: forget all
		a.campaigns.clear()
		a.live.clear()
		a.sessions.clear()
		a.residents.clear()
		a.unread.clear()
	}
}

func idKey(id int64) string { return strconv.FormatInt(id, 10) }
