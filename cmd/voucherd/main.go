// Command voucherd is the district consumption-voucher server.
//
//	voucherd [serve] [flags]   serve the pages and the API (default)
//	voucherd migrate [flags]   apply database migrations and exit
//	voucherd seed [flags]      load reference data (and, with -demo, the demo set; with -season N, a generated season) and exit
//	voucherd keys rotate       make a new voucher signing key; old ones keep verifying
//	voucherd backup FILE       write a consistent snapshot of the database to FILE
//	voucherd audit verify      check the officers' audit log chain; exit 1 at the first broken link
//	voucherd check             verify every invariant of the books, read-only (also beside serve); exit 1 if any fails
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo

	"cqvoucher/app"
	"cqvoucher/app/metrics"
	"cqvoucher/app/realname"
	"cqvoucher/app/sms"
	"cqvoucher/app/token"
	"cqvoucher/app/web"
	"cqvoucher/db"
	"cqvoucher/seeds"
	"cqvoucher/templates"
)

var version = "dev"

func main() {
	logs := newLogBuffer(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := runLogged(ctx, os.Args[1:], func(cfg Config) *slog.Logger { return newLog(logs, cfg.LogFormat) })
	stop()
	logs.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "voucherd:", err)
		os.Exit(1)
	}
}

// Config is everything an operator sets, by flag or by environment variable.
type Config struct {
	Addr    string
	DataDir string
	// Database is a postgres:// URL; empty = SQLite in DataDir. Any number
	// of voucherd may share one PostgreSQL database (docs/postgres.md).
	Database      string
	DatabaseConns int // PostgreSQL: this process's connections at most
	// KeysDir holds the signing keys and the data keys; every voucherd of
	// one database must be given the same keys (default DataDir/keys).
	KeysDir        string
	BaseURL        string
	Demo           bool
	Synchronous    string
	SecureCookies  bool
	TrustedProxies string
	Season         int // with the seed command: generate a season of about this many redemptions
	SMSURL         string
	SMSUser        string
	SMSPassword    string
	SMSBudgets     string // overrides of app.DefaultConfig's SMS budgets (app.ParseSMSBudgets)
	// MetricsAddr is where /metrics is served (app/metrics); empty = not at all.
	MetricsAddr   string
	LogFormat     string // text or json
	IdentityURL   string // 实名核验 provider; empty = check ID numbers' format and checksum only
	IdentityAppID string
	IdentityToken string
	IdentityWait  time.Duration
	OfficerIdle   time.Duration // an officer session unused this long ends
	Crypto        string        // a key of cryptoModes; "" = ed25519
	// Organiser and OrganiserContact are named in the 用户协议 and 隐私政策
	// residents agree to (app.Terms); changing them asks every resident to
	// agree again.
	Organiser        string
	OrganiserContact string
	AdmissionQueue   int // claims the writer's queue admits before "too busy" (app.Config.AdmissionQueue)
}

// cryptoMode is what a -crypto mode signs vouchers and chains the audit
// log with. Changing mode keeps everything already signed or chained
// verifiable: keys and audit rows say what they are.
type cryptoMode struct {
	keys  token.Kind
	audit string
}

var cryptoModes = map[string]cryptoMode{
	"ed25519": {token.Ed25519, app.AuditSHA256}, // the default: verifiable by any JOSE library
	"gm":      {token.SM2, app.AuditSM3},        // commercial cryptography (GB/T 39786): SM2 vouchers, SM3 audit chain
}

// cryptoMode returns the configured mode. parseFlags refuses unknown
// names; a Config built in code without one gets the default.
func (c Config) cryptoMode() cryptoMode {
	if m, ok := cryptoModes[c.Crypto]; ok {
		return m
	}
	return cryptoModes["ed25519"]
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// parseFlags reads flags wherever they stand among the arguments, so
// "voucherd keys rotate -data DIR" means what "voucherd -data DIR keys
// rotate" does, and returns the other arguments in order ("--" ends the
// flags).
func parseFlags(args []string) (Config, []string, error) {
	fs := flag.NewFlagSet("voucherd", flag.ContinueOnError)
	var c Config
	fs.StringVar(&c.Addr, "addr", env("VOUCHERD_ADDR", ":8080"), "listen address (env VOUCHERD_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("VOUCHERD_DATA", "./data"), "directory of the SQLite database and the signing keys (env VOUCHERD_DATA)")
	fs.StringVar(&c.Database, "database", env("VOUCHERD_DATABASE_URL", ""), "PostgreSQL database URL (postgres://user:password@host/db); empty = SQLite in -data (env VOUCHERD_DATABASE_URL)")
	fs.StringVar(&c.KeysDir, "keys", env("VOUCHERD_KEYS", ""), "directory of the signing and data keys, the same for every voucherd of one database (env VOUCHERD_KEYS; default DATA/keys)")
	fs.StringVar(&c.BaseURL, "base-url", env("VOUCHERD_BASE_URL", ""), "public URL of this server, put in voucher QR codes (env VOUCHERD_BASE_URL; default http://localhost:PORT)")
	fs.BoolVar(&c.Demo, "demo", env("VOUCHERD_DEMO", "") == "1", "load the demo data set and show the demo SMS outbox (env VOUCHERD_DEMO=1)")
	fs.StringVar(&c.Synchronous, "synchronous", env("VOUCHERD_SYNCHRONOUS", "FULL"), "SQLite synchronous setting: FULL (survives power loss) or NORMAL (env VOUCHERD_SYNCHRONOUS)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", env("VOUCHERD_SECURE_COOKIES", "") == "1", "mark cookies Secure; set when served over HTTPS (env VOUCHERD_SECURE_COOKIES=1)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("VOUCHERD_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted (env VOUCHERD_TRUSTED_PROXIES)")
	fs.IntVar(&c.Season, "season", 0, "with 'seed': also generate a realistic consumption season of about N redemptions, for the dashboards")
	fs.StringVar(&c.SMSURL, "sms-url", env("VOUCHERD_SMS_URL", ""), "HTTP SMS gateway URL; empty = write codes to the log (development only) (env VOUCHERD_SMS_URL)")
	fs.StringVar(&c.SMSUser, "sms-user", env("VOUCHERD_SMS_USER", ""), "SMS gateway user for basic auth (env VOUCHERD_SMS_USER)")
	fs.StringVar(&c.Crypto, "crypto", env("VOUCHERD_CRYPTO", "ed25519"), "cryptography mode: ed25519 (Ed25519 vouchers, SHA-256 audit chain) or gm (SM2 vouchers, SM3 audit chain) (env VOUCHERD_CRYPTO)")
	officerIdle, err := time.ParseDuration(env("VOUCHERD_OFFICER_IDLE", "15m"))
	if err != nil {
		return c, nil, fmt.Errorf("VOUCHERD_OFFICER_IDLE: %w", err)
	}
	fs.DurationVar(&c.OfficerIdle, "officer-idle", officerIdle, "an officer session unused this long ends; 0 = never (env VOUCHERD_OFFICER_IDLE)")
	// The password only by environment: flags show in the process list.
	c.SMSPassword = env("VOUCHERD_SMS_PASSWORD", "")
	fs.StringVar(&c.SMSBudgets, "sms-budgets", env("VOUCHERD_SMS_BUDGETS", ""), "SMS budgets, e.g. global-hour=50000,global-day=500000,prefix-hour=2000,prefix-day=10000,number-quarter=3 (0 = no limit; env VOUCHERD_SMS_BUDGETS)")
	fs.StringVar(&c.IdentityURL, "identity-url", env("VOUCHERD_IDENTITY_URL", ""), "实名核验 provider URL (see docs/identity.md); empty = ID format and checksum only, which proves no identity (env VOUCHERD_IDENTITY_URL)")
	fs.StringVar(&c.IdentityAppID, "identity-app-id", env("VOUCHERD_IDENTITY_APP_ID", ""), "application id at the identity provider (env VOUCHERD_IDENTITY_APP_ID)")
	fs.DurationVar(&c.IdentityWait, "identity-timeout", 5*time.Second, "how long to wait for the identity provider")
	demoTerms := app.DemoTerms()
	fs.StringVar(&c.Organiser, "organiser", env("VOUCHERD_ORGANISER", demoTerms.Organiser), "who runs the vouchers, named in the 用户协议 and 隐私政策 (env VOUCHERD_ORGANISER)")
	fs.StringVar(&c.OrganiserContact, "organiser-contact", env("VOUCHERD_ORGANISER_CONTACT", demoTerms.Contact), "how residents reach the organiser (hotline, hours), named in the texts (env VOUCHERD_ORGANISER_CONTACT)")
	admission, err := strconv.Atoi(env("VOUCHERD_ADMISSION_QUEUE", strconv.Itoa(app.DefaultConfig().AdmissionQueue)))
	if err != nil || admission < 0 {
		return c, nil, fmt.Errorf("VOUCHERD_ADMISSION_QUEUE %q: want a count", env("VOUCHERD_ADMISSION_QUEUE", ""))
	}
	fs.IntVar(&c.AdmissionQueue, "admission-queue", admission, "claims waiting for the database writer beyond which a press is answered \"too busy, try again at …\" at once (env VOUCHERD_ADMISSION_QUEUE)")
	conns, err := strconv.Atoi(env("VOUCHERD_DATABASE_CONNS", strconv.Itoa(db.DefaultPostgresConns)))
	if err != nil {
		return c, nil, fmt.Errorf("VOUCHERD_DATABASE_CONNS %q: want a count", env("VOUCHERD_DATABASE_CONNS", ""))
	}
	fs.IntVar(&c.DatabaseConns, "database-conns", conns, "PostgreSQL: connections this process opens at most; the server's max_connections is shared by every voucherd (env VOUCHERD_DATABASE_CONNS)")
	c.IdentityToken = env("VOUCHERD_IDENTITY_TOKEN", "")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("VOUCHERD_METRICS_ADDR", ""), "listen address of /metrics in Prometheus's format, e.g. 127.0.0.1:9180; never the public -addr; empty = no metrics (env VOUCHERD_METRICS_ADDR)")
	fs.StringVar(&c.LogFormat, "log-format", env("VOUCHERD_LOG_FORMAT", "text"), "log lines as text (key=value) or json, one object per line (env VOUCHERD_LOG_FORMAT)")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return c, nil, err
		}
		left := fs.Args()
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			positional = append(positional, left...)
			break
		}
		if len(left) == 0 {
			break
		}
		positional, args = append(positional, left[0]), left[1:]
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, nil, fmt.Errorf("-addr %q: %w", c.Addr, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, nil, fmt.Errorf("-log-format %q: want text or json", c.LogFormat)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return c, nil, fmt.Errorf("-metrics-addr %q: %w", c.MetricsAddr, err)
		}
		if _, port, _ := net.SplitHostPort(c.MetricsAddr); c.MetricsAddr == c.Addr && port != "0" {
			return c, nil, fmt.Errorf("-metrics-addr %q: the metrics must not be served on the public -addr", c.MetricsAddr)
		}
	}
	if c.AdmissionQueue < 1 {
		return c, nil, fmt.Errorf("-admission-queue %d: want at least 1", c.AdmissionQueue)
	}
	if c.Database != "" && !db.IsPostgresURL(c.Database) {
		return c, nil, errors.New("-database: want a postgres:// (or postgresql://) URL; without -database the SQLite database in -data is used")
	}
	if c.DatabaseConns < 2 || c.DatabaseConns > 1000 {
		return c, nil, fmt.Errorf("-database-conns %d: want 2 to 1000", c.DatabaseConns)
	}
	if _, ok := cryptoModes[c.Crypto]; !ok {
		return c, nil, fmt.Errorf("-crypto %q: want ed25519 or gm", c.Crypto)
	}
	if c.BaseURL == "" {
		_, port, _ := net.SplitHostPort(c.Addr)
		c.BaseURL = "http://localhost:" + port
	}
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return c, nil, fmt.Errorf("-base-url %q must start with http:// or https://", c.BaseURL)
	}
	return c, positional, nil
}

// newLog is the log voucherd writes to buf: text lines, or JSON objects
// (format "json"), each WARN and ERROR written at once, and every line a
// request causes naming the request (app.RequestIDHandler).
func newLog(buf *logBuffer, format string) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(buf, nil)
	if format == "json" {
		h = slog.NewJSONHandler(buf, nil)
	}
	return slog.New(app.RequestIDHandler{Handler: flushOnWarn{h, buf}})
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	return runLogged(ctx, args, func(Config) *slog.Logger { return log })
}

// runLogged runs the command args name, logging to the log that
// logFor makes for its configuration (-log-format).
func runLogged(ctx context.Context, args []string, logFor func(Config) *slog.Logger) error {
	cfg, rest, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log := logFor(cfg)
	cmd := "serve"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			return fmt.Errorf("serve takes no arguments, got %q", rest)
		}
		m, err := Open(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer m.Close()
		m.PrintWelcome(os.Stdout)
		return m.Serve(ctx)
	case "migrate":
		lock, err := lockDataDir(cfg)
		if err != nil {
			return err
		}
		defer lock.Close()
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Println("migrations applied")
		return st.Close()
	case "seed":
		m, err := Open(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer m.Close()
		fmt.Println("reference data loaded" + map[bool]string{true: ", demo data loaded", false: ""}[cfg.Demo])
		if cfg.Season > 0 {
			start := time.Now()
			sum, err := seeds.LoadSeason(ctx, m.Store, m.App, seeds.SeasonOptions{Redemptions: cfg.Season, Seed: uint64(start.Unix()), SignTokens: true})
			if err != nil {
				return err
			}
			fmt.Printf("season generated in %s: %d campaigns, %d merchants, %d residents, %d claims, %d redemptions, %d reversals\n",
				time.Since(start).Round(time.Millisecond), sum.Campaigns, sum.Merchants, sum.Residents, sum.Claims, sum.Redemptions, sum.Reversals)
			// The season writes its residents' numbers in bulk, in clear: seal them now.
			if _, err := m.App.SealLegacyPersonalData(ctx); err != nil {
				return err
			}
		}
		return nil
	case "keys":
		if len(rest) != 1 || rest[0] != "rotate" {
			return errors.New("usage: voucherd keys rotate")
		}
		dir := cfg.keysDir()
		ring, err := token.Open(dir, cfg.cryptoMode().keys)
		if err != nil {
			return err
		}
		kid, err := ring.Rotate(dir)
		if err != nil {
			return err
		}
		fmt.Println("new signing key:", kid, "("+string(ring.ActiveKind())+"; restart the server to use it)")
		return nil
	case "audit":
		if len(rest) != 1 || rest[0] != "verify" {
			return errors.New("usage: voucherd audit verify")
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		return auditVerify(ctx, st, os.Stdout)
	case "check":
		return checkBooks(ctx, cfg, os.Stdout)
	case "lottery":
		return lotteryVerify(rest, os.Stdin, os.Stdout)
	case "backup":
		if len(rest) != 1 {
			return errors.New("usage: voucherd backup FILE")
		}
		if cfg.Database != "" {
			return pgDump(ctx, cfg.Database, rest[0])
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Backup(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Println("backup written to", rest[0])
		return nil
	}
	return fmt.Errorf("unknown command %q (serve, migrate, seed, keys rotate, backup FILE, audit verify, lottery verify FILE)", cmd)
}

// openStore opens (and migrates) the configured database: the PostgreSQL
// one -database names, or the data directory's SQLite file.
func openStore(ctx context.Context, cfg Config) (*db.Store, error) {
	return db.Open(ctx, cfg.databaseTarget(), storeOptions(cfg))
}

func storeOptions(cfg Config) db.Options {
	opt := db.Options{Synchronous: cfg.Synchronous, AuditHash: cfg.cryptoMode().audit}
	if cfg.Database != "" {
		opt.ReadConns = cfg.DatabaseConns // on PostgreSQL the one pool reads and writes
	}
	return opt
}

// databaseTarget is what db.Open is given.
func (c Config) databaseTarget() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, "voucher.db")
}

// keysDir is where the keys are (see Config.KeysDir).
func (c Config) keysDir() string {
	if c.KeysDir != "" {
		return c.KeysDir
	}
	return filepath.Join(c.DataDir, "keys")
}

// lockFileName is the lock a serving (or migrating, or seeding) voucherd
// holds in its data directory.
const lockFileName = "voucherd.lock"

// lockDataDir takes the data directory's lock, or explains who holds it.
// Two servers on one directory would each sweep, checkpoint and seed as
// if alone, and a migration under a running server changes the schema
// beneath it. The lock is flock(2): the kernel drops it when the process
// dies, so a crash leaves no stale lock, and the file is never removed
// (removing it would let a third process lock a new file while the
// second still holds the old one). Backups, key rotation and audit
// verification run beside a server and do not take it.
//
// On PostgreSQL there is no lock: any number of voucherd serve one
// database, and the database orders what they do (docs/postgres.md).
func lockDataDir(cfg Config) (*os.File, error) {
	if cfg.Database != "" {
		return nil, os.MkdirAll(cfg.DataDir, 0o700)
	}
	dir := cfg.DataDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := "another process"
		if b, rerr := io.ReadAll(io.LimitReader(f, 32)); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = "process " + strings.TrimSpace(string(b))
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by %s (lock %s): stop that voucherd first, or use another -data", dir, holder, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The pid is only for the message above; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// errAuditBroken makes `voucherd audit verify` exit non-zero.
var errAuditBroken = errors.New("audit log chain is broken")

// auditVerify walks the audit chain and prints the first broken link, or
// the head hash to record elsewhere (removal of the newest rows shows only
// against such a record).
func auditVerify(ctx context.Context, st *db.Store, w io.Writer) error {
	rep, err := st.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if b := rep.Break; b != nil {
		why := map[string]string{
			"altered":        "its content does not match its hash: the row was altered",
			"altered_before": "it does not link to the row before: that row was altered",
			"missing_before": "the row before it is missing: rows were deleted",
		}[b.Reason]
		fmt.Fprintf(w, "audit log BROKEN at row %d: %s (%d rows intact before it)\n", b.ID, why, rep.Rows)
		return errAuditBroken
	}
	fmt.Fprintf(w, "audit log intact: %d rows, head %s\n", rep.Rows, rep.Head)
	return nil
}

// Main is the assembled product: storage, domain and web server. Tests
// open one on a temporary directory and port 0.
type Main struct {
	Config   Config
	Store    *db.Store
	App      *app.App
	Server   *web.Server
	Demo     *seeds.Demo
	listener net.Listener
	log      *slog.Logger
	lock     *os.File // the data directory's lock, held until Close
	// With -metrics-addr: the collectors and their own listening socket.
	metrics     *metrics.Metrics
	metricsSock net.Listener
	outbox      *web.Outbox // the log sender, and in demo mode the demo SMS page's messages
}

// Open assembles the product: database (migrated), keys, reference and
// demo data, domain, web server, and a listening socket.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Main, error) {
	lock, err := lockDataDir(cfg)
	if err != nil {
		return nil, err
	}
	var mx *metrics.Metrics
	opt := storeOptions(cfg)
	if cfg.MetricsAddr != "" {
		mx = metrics.New()
		opt.ObserveCommit = mx.ObserveCommit
	}
	st, err := db.Open(ctx, cfg.databaseTarget(), opt)
	if err != nil {
		lock.Close()
		return nil, err
	}
	m := &Main{Config: cfg, Store: st, log: log, lock: lock, metrics: mx}
	if err := m.open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Main) open(ctx context.Context) error {
	// Private keys live beside the database, not in it: a copy of the
	// database forges nothing.
	ring, err := token.Open(m.Config.keysDir(), m.Config.cryptoMode().keys)
	if err != nil {
		return err
	}
	if err := seeds.LoadReference(ctx, m.Store); err != nil {
		return err
	}
	acfg := app.DefaultConfig()
	acfg.OfficerIdle = m.Config.OfficerIdle
	if m.Config.AdmissionQueue > 0 { // a Config built in code without one keeps the default
		acfg.AdmissionQueue = m.Config.AdmissionQueue
	}
	if m.Config.Organiser != "" {
		acfg.Terms.Organiser = m.Config.Organiser
	}
	if m.Config.OrganiserContact != "" {
		acfg.Terms.Contact = m.Config.OrganiserContact
	}
	if !m.Config.Demo && acfg.Terms.Organiser == app.DemoTerms().Organiser {
		m.log.Warn("the 用户协议 and 隐私政策 name the demo organiser: set -organiser and -organiser-contact")
	}
	if acfg.Terms.Version, err = web.TermsVersion(templates.FS, acfg.Terms); err != nil {
		return err
	}
	if acfg.IdentityKey, err = loadOrCreateSecret(filepath.Join(m.Config.keysDir(), "identity.key")); err != nil {
		return err
	}
	// data.key seals residents' phone numbers (docs/privacy.md): without
	// it the database's numbers cannot be read, so it is kept like identity.key.
	dataKey, err := loadOrCreateSecret(filepath.Join(m.Config.keysDir(), "data.key"))
	if err != nil {
		return err
	}
	aesSealer, err := app.NewAESSealer(dataKey[:32])
	if err != nil {
		return err
	}
	// The commercial cryptography mode seals with SM4 under a key of its
	// own; either mode still opens what the other sealed.
	sm4Key, err := loadOrCreateSecret(filepath.Join(m.Config.keysDir(), "data-sm4.key"))
	if err != nil {
		return err
	}
	sm4Sealer, err := app.NewSM4Sealer(sm4Key)
	if err != nil {
		return err
	}
	acfg.Sealer = app.SealerOf(aesSealer, sm4Sealer)
	if m.Config.cryptoMode().keys == token.SM2 {
		acfg.Sealer = app.SealerOf(sm4Sealer, aesSealer)
	}
	if acfg.SMSBudgets, err = app.ParseSMSBudgets(m.Config.SMSBudgets, acfg.SMSBudgets); err != nil {
		return err
	}
	if m.Config.IdentityURL != "" {
		if acfg.Identity, err = realname.New(m.Config.IdentityURL, m.Config.IdentityAppID, m.Config.IdentityToken, m.Config.IdentityWait); err != nil {
			return err
		}
	} else if !m.Config.Demo {
		m.log.Warn("no identity provider configured (-identity-url): the real-name step checks ID numbers' format and checksum only")
	}
	outbox := web.NewOutbox(m.log, m.Config.Demo)
	m.outbox = outbox
	var sender app.SMSSender = outbox
	if m.Config.SMSURL != "" {
		if sender, err = sms.NewGateway(m.Config.SMSURL, m.Config.SMSUser, m.Config.SMSPassword); err != nil {
			return err
		}
	} else if !m.Config.Demo {
		m.log.Warn("no SMS gateway configured (-sms-url): sign-in codes go to the log only")
	}
	if m.metrics != nil {
		sender = m.metrics.CountSMS(sender)
	}
	m.App = app.New(m.Store, ring, sender, acfg, nil, m.log)
	if m.metrics != nil {
		m.App.Observe(m.metrics)
		m.metrics.WatchWriterQueue(m.Store.WriterQueue)
	}
	if n, err := m.App.SealLegacyPersonalData(ctx); err != nil {
		return err
	} else if n > 0 {
		m.log.Info("personal data stored in clear was sealed", "rows", n)
	}
	if m.Config.Demo {
		d, err := seeds.LoadDemo(ctx, m.Store, m.App)
		if err != nil {
			return err
		}
		m.Demo = &d
	}
	wcfg := web.DefaultConfig()
	wcfg.BaseURL, wcfg.Demo, wcfg.SecureCookies = m.Config.BaseURL, m.Config.Demo, m.Config.SecureCookies
	for _, p := range strings.Split(m.Config.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			wcfg.TrustedProxies = append(wcfg.TrustedProxies, p)
		}
	}
	if m.metrics != nil {
		wcfg.ObserveRequest = m.metrics.ObserveRequest
	}
	var shown *web.Outbox
	if m.Config.Demo {
		shown = outbox
	}
	m.Server, err = web.New(m.App, wcfg, templates.FS, shown, m.log)
	if err != nil {
		return err
	}
	if m.listener, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return err
	}
	if m.metrics != nil {
		m.metricsSock, err = net.Listen("tcp", m.Config.MetricsAddr)
	}
	return err
}

// MetricsAddr is the address /metrics is served on, or "" without -metrics-addr.
func (m *Main) MetricsAddr() string {
	if m.metricsSock == nil {
		return ""
	}
	return m.metricsSock.Addr().String()
}

// loadOrCreateSecret reads a 32-byte secret from path, making it (0600)
// on first start. It keys the hashes of resident ID numbers: losing it
// would make every real-name check unrepeatable, so it is never rotated
// silently and lives beside the signing keys, outside the database. It is
// created whole and never over an existing file, so two first starts at
// once end with the one secret the first of them wrote.
func loadOrCreateSecret(path string) ([]byte, error) {
	b, err := readSecret(path)
	if !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := token.CreateFile(dir, filepath.Base(path), b); errors.Is(err, os.ErrExist) {
		return readSecret(path)
	} else if err != nil {
		return nil, err
	}
	return b, nil
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("%s: secret shorter than 32 bytes", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	return b, nil
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Serve answers requests until ctx ends, then drains for up to 10 s.
func (m *Main) Serve(ctx context.Context) error {
	srv := &http.Server{
		Handler:           m.Server,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	// VOUCHERD_CPUPROFILE=FILE writes a CPU profile of the whole run (for
	// cmd/loadgen -profile): where a drop's time goes is measured, not guessed.
	if path := os.Getenv("VOUCHERD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(m.listener) }()
	var msrv *http.Server
	if m.metricsSock != nil {
		// Its own server on its own socket: the public one has no /metrics.
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.metrics.Handler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		go func() { errc <- msrv.Serve(m.metricsSock) }()
	}
	go m.sweepRetention(ctx, time.Hour)
	go m.sweepExpired(ctx, time.Minute)
	go m.sendReminders(ctx, time.Minute)
	go m.issueLotteries(ctx, time.Minute)
	if m.Store.Postgres() {
		// Other voucherd on the database tell this one what they changed.
		go m.Store.Listen(ctx, db.Listener{
			Apply: m.App.ApplyNews,
			Ready: func() { m.log.Info("listening for cache news from the other processes") },
			Failed: func(err error) {
				m.log.Warn("cache news: connection lost; caches are forgotten and it is tried again", "err", err)
			},
		})
		go m.foldCounters(ctx, 250*time.Millisecond)
	} else { // PostgreSQL keeps its own WAL
		go m.checkpointWAL(ctx, time.Second)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if msrv != nil {
		msrv.Shutdown(shutdown)
	}
	// How well the writer batched over this run (cmd/loadgen reads it).
	ws := m.Store.WriterStats()
	m.log.Info("writer stats", "commits", ws.Commits, "steps", ws.Steps,
		"step_ms", ws.StepTime.Milliseconds(), "commit_ms", ws.CommitTime.Milliseconds())
	return err
}

// sweepRetention deletes ended sessions and old SMS codes once they are
// past their retention (docs/privacy.md); lookups ignore them anyway.
func (m *Main) sweepRetention(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := m.App.SweepRetention(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("retention sweep failed", "err", err)
		} else if n.Sessions+n.SMSCodes > 0 {
			m.log.Info("retention sweep", "sessions", n.Sessions, "sms_codes", n.SMSCodes)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepExpired counts vouchers that expired unredeemed, every minute, so
// that their budget is freed and recycled vouchers reach the next drop.
func (m *Main) sweepExpired(ctx context.Context, every time.Duration) {
	m.repeat(ctx, every, "expiry sweep failed", func(ctx context.Context) error {
		_, err := m.App.SweepExpired(ctx)
		return err
	})
}

// sendReminders sends the expiry reminders due, every minute: a batch of
// at most app.Config.Reminders.PerSweep a round, which is the rate limit.
// Across the fleet one process sends a round (db/reminders.go).
func (m *Main) sendReminders(ctx context.Context, every time.Duration) {
	m.repeat(ctx, every, "expiry reminder sweep failed", func(ctx context.Context) error {
		_, err := m.App.SendExpiryReminders(ctx)
		return err
	})
}

// issueLotteries gives drawn lotteries' winners the vouchers a draw left
// unissued (a process that stopped halfway), every minute; issuing is
// idempotent, so processes of a fleet may both try.
func (m *Main) issueLotteries(ctx context.Context, every time.Duration) {
	m.repeat(ctx, every, "lottery issue failed", m.App.IssuePendingLotteries)
}

// repeat runs do now and then every interval until ctx ends, logging a
// failure as what.
func (m *Main) repeat(ctx context.Context, every time.Duration, what string, do func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := do(ctx); err != nil && ctx.Err() == nil {
			m.log.Error(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// foldCounters folds the counter deltas of claims and redemptions into
// their rows (PostgreSQL; db/hotrows.go), one process of the fleet at a
// time. Readers add what is not yet folded, so how often this runs changes
// no figure, only how many delta rows a read adds: a round that found a
// full batch goes on at once.
func (m *Main) foldCounters(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := m.Store.FoldCounters(ctx)
			if err != nil && ctx.Err() == nil {
				m.log.Error("counter fold failed", "err", err)
			}
			if err != nil || n < db.FoldBatch {
				break
			}
		}
	}
}

// checkpointWAL brings the WAL back to its limit whenever it has grown
// past it (after a long export or backup held an old snapshot while claims
// kept coming). Looking costs one stat a second; the checkpoint itself
// runs only when needed. While a long read still holds the WAL it is said
// once, not every second.
func (m *Main) checkpointWAL(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	held := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		size, err := m.Store.WALSize()
		if err == nil && size > m.Store.WALLimit() {
			if size, err = m.Store.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				m.log.Error("WAL checkpoint failed", "err", err)
			}
		}
		if err != nil {
			continue
		}
		if over := size > m.Store.WALLimit(); over != held {
			if over {
				m.log.Warn("WAL above its limit: a long read still holds an older snapshot", "wal_bytes", size, "limit_bytes", m.Store.WALLimit())
			} else {
				m.log.Info("WAL back within its limit", "wal_bytes", size)
			}
			held = over
		}
	}
}

// Close releases the database and then the data directory's lock.
func (m *Main) Close() error {
	if m.listener != nil {
		m.listener.Close()
	}
	if m.metricsSock != nil {
		m.metricsSock.Close()
	}
	err := m.Store.Close()
	m.lock.Close()
	return err
}

// PrintWelcome tells a newcomer where to go and, in demo mode, how to sign in.
func (m *Main) PrintWelcome(w interface{ Write([]byte) (int, error) }) {
	base := m.Config.BaseURL
	fmt.Fprintf(w, "voucherd %s listening on %s\n", version, m.Addr())
	fmt.Fprintf(w, "  officers:  %s/officer\n  residents: %s/m\n  merchants: %s/merchant\n", base, base, base)
	fmt.Fprintf(w, "  data:      %s (database voucher.db, signing keys in keys/)\n", m.Config.DataDir)
	if m.Demo != nil {
		fmt.Fprintf(w, "demo accounts (password %s):\n", m.Demo.Password)
		for _, o := range m.Demo.Officers {
			fmt.Fprintf(w, "  officer  %-18s %s\n", o.Username, o.Name)
		}
		fmt.Fprintf(w, "  officers' second factor (demo only): TOTP secret %s in any authenticator app, or oathtool --totp -b %s\n",
			m.Demo.TOTPSecret, m.Demo.TOTPSecret)
		for _, mer := range m.Demo.Merchants {
			if mer.Owner.Username != "" {
				fmt.Fprintf(w, "  owner    %-18s %s (店主: statements, staff, API keys)\n", mer.Owner.Username, mer.Name)
			}
			fmt.Fprintf(w, "  cashier  %-18s %s\n", mer.Cashier.Username, mer.Name)
		}
		fmt.Fprintf(w, "  resident any mainland mobile number; SMS codes appear at %s/demo/sms\n", base)
	}
}
