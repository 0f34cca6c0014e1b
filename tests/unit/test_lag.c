/*
 * test_lag.c - unit tests for the monitor's arithmetic (replication/lag.c):
 * LSN text in both directions and lsn_diff, the state names, the master's
 * position history (newest point at or below an LSN, wrap-around), lag in
 * bytes and time (idle master, replay age against history, stale and
 * missing samples), the judgement of one observation of a replica or the
 * master, the hysteresis, and a paused replica fed through the whole chain
 * the way the monitor does it.
 */
#include "lag.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define SEC USEC_PER_SEC
#define MS USEC_PER_MS
#define HI(x) ((Lsn)(x) << 32)

/* ---- helpers ------------------------------------------------------------ */

/* A master that answered at `at`, in production, at wal. */
static Sample master_sample(usec_t at, Lsn wal)
{
	Sample s = {.at = at, .ok = true, .wal_lsn = wal, .replay_age = -1, .timeline = 1};
	return s;
}

/* A streaming replica that answered at `at`, having received and replayed up to lsn. */
static Sample replica_sample(usec_t at, Lsn lsn, int64_t replay_age)
{
	Sample s = {.at = at,
		    .ok = true,
		    .in_recovery = true,
		    .receive_lsn = lsn,
		    .replay_lsn = lsn,
		    .replay_age = replay_age,
		    .streaming = true,
		    .timeline = 1};
	return s;
}

typedef struct Point {
	usec_t at;
	Lsn lsn;
} Point;

#define MAX_POINTS 8

static void history_of(LagHistory *h, const Point *p, size_t n)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < n; i++)
		lag_history_add(h, p[i].at, p[i].lsn);
}

static size_t npoints(const Point *p)
{
	size_t n = 0;

	while (n < MAX_POINTS && p[n].at != 0)
		n++;
	return n;
}

/* ---- lsn_parse / lsn_format / lsn_diff ---------------------------------- */

Test(lsn, parse_valid)
{
	static const struct {
		const char *text;
		Lsn want;
	} cases[] = {
	    {"0/0", 0},
	    {"0/1", 1},
	    {"1/0", HI(1)},
	    {"16/B374D848", 0x16B374D848ULL},
	    {"16/b374d848", 0x16B374D848ULL},
	    {"aBc/DeF", HI(0xABC) | 0xDEF},
	    {"0/FFFFFFFF", 0xFFFFFFFFULL},
	    {"FFFFFFFF/0", HI(0xFFFFFFFF)},
	    {"FFFFFFFF/FFFFFFFF", UINT64_MAX},
	    {"ffffffff/ffffffff", UINT64_MAX},
	    {"00000001/00000000", HI(1)},
	    {"00000000/0000000A", 10},
	    {"0000000/00000", 0},
	    {"12345678/9ABCDEF0", 0x123456789ABCDEF0ULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		Lsn got = 12345;

		cr_assert(lsn_parse(cases[i].text, &got), "\"%s\" should parse", cases[i].text);
		cr_assert_eq(got, cases[i].want, "\"%s\": got %llx, want %llx", cases[i].text,
			     (unsigned long long)got, (unsigned long long)cases[i].want);
	}
}

Test(lsn, parse_invalid)
{
	static const char *const cases[] = {
	    "",
	    "/",
	    "1/",
	    "/1",
	    "1//1",
	    "1/0/0",
	    "1",
	    "123456789/0", /* 9 digits */
	    "0/123456789",
	    "000000001/0", /* 9 digits, even as leading zeros */
	    "0/000000000",
	    "FFFFFFFFF/0",
	    " 1/0",
	    "1/0 ",
	    "1 /0",
	    "1/ 0",
	    "\t1/0",
	    "1/0\n",
	    "1/0x",
	    "0x1/0",
	    "1/0x1",
	    "g/0",
	    "0/g",
	    "-1/0",
	    "+1/0",
	    "0/-1",
	    "1:0",
	    "1\\0",
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		Lsn got = 0;

		cr_assert_not(lsn_parse(cases[i], &got), "\"%s\" should not parse (gave %llx)",
			      cases[i], (unsigned long long)got);
	}
	Lsn got = 0;
	cr_assert_not(lsn_parse(NULL, &got), "NULL does not parse");
	/* a NUL cuts the text: what follows it is not looked at */
	cr_assert(lsn_parse("1/2\0garbage", &got));
	cr_assert_eq(got, HI(1) | 2);
}

Test(lsn, high_word_boundary)
{
	Lsn below, above;

	cr_assert(lsn_parse("0/FFFFFFFF", &below));
	cr_assert(lsn_parse("1/0", &above));
	cr_assert_eq(below, 0xFFFFFFFFULL);
	cr_assert_eq(above, 0x100000000ULL);
	cr_assert_eq(below + 1, above, "0/FFFFFFFF and one byte is 1/0");
	cr_assert_eq(lsn_diff(above, below), 1);
	cr_assert_eq(lsn_diff(below, above), 0);

	char buf[LSN_TEXT_MAX];
	cr_assert_str_eq(lsn_format(below + 1, buf), "1/0");
	cr_assert_str_eq(lsn_format(above - 1, buf), "0/FFFFFFFF");
}

Test(lsn, format_round_trip)
{
	static const struct {
		Lsn lsn;
		const char *text; /* PostgreSQL's own spelling: %X/%X */
	} cases[] = {
	    {0, "0/0"},
	    {1, "0/1"},
	    {0xFFFFFFFFULL, "0/FFFFFFFF"},
	    {HI(1), "1/0"},
	    {HI(1) + 1, "1/1"},
	    {0x16B374D848ULL, "16/B374D848"},
	    {0x123456789ABCDEF0ULL, "12345678/9ABCDEF0"},
	    {0x8000000000000000ULL, "80000000/0"},
	    {HI(0xFFFFFFFF), "FFFFFFFF/0"},
	    {UINT64_MAX - 1, "FFFFFFFF/FFFFFFFE"},
	    {UINT64_MAX, "FFFFFFFF/FFFFFFFF"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[LSN_TEXT_MAX];
		const char *txt;
		Lsn back = 0;

		memset(buf, 'x', sizeof(buf));
		txt = lsn_format(cases[i].lsn, buf);
		cr_assert_eq(txt, buf, "lsn_format returns its buffer");
		cr_assert_not_null(memchr(buf, '\0', sizeof(buf)));
		cr_assert_str_eq(txt, cases[i].text);
		cr_assert(lsn_parse(txt, &back), "\"%s\" parses back", txt);
		cr_assert_eq(back, cases[i].lsn, "\"%s\": got %llx", txt, (unsigned long long)back);
	}
	/* and every shift of a single bit */
	for (int b = 0; b < 64; b++) {
		char buf[LSN_TEXT_MAX];
		Lsn l = (Lsn)1 << b, back = 0;

		cr_assert(lsn_parse(lsn_format(l, buf), &back), "%s", buf);
		cr_assert_eq(back, l, "bit %d: %s", b, buf);
	}
}

Test(lsn, diff)
{
	static const struct {
		Lsn a, b;
		uint64_t want;
	} cases[] = {
	    {5, 3, 2},
	    {3, 5, 0},
	    {7, 7, 0},
	    {0, 0, 0},
	    {HI(1), 0xFFFFFFFFULL, 1},
	    {HI(1) + 0x10, 0xFFFFFFF0ULL, 0x20},
	    {0xFFFFFFF0ULL, HI(1) + 0x10, 0},
	    {HI(2), HI(1), HI(1)},
	    {UINT64_MAX, 0, UINT64_MAX},
	    {0, UINT64_MAX, 0},
	    {UINT64_MAX, UINT64_MAX, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		cr_assert_eq(lsn_diff(cases[i].a, cases[i].b), cases[i].want,
			     "diff(%llx, %llx) = %llx, want %llx", (unsigned long long)cases[i].a,
			     (unsigned long long)cases[i].b,
			     (unsigned long long)lsn_diff(cases[i].a, cases[i].b),
			     (unsigned long long)cases[i].want);
}

/* ---- node_state_name ---------------------------------------------------- */

Test(state, names)
{
	static const struct {
		NodeState s;
		const char *name;
	} cases[] = {
	    {NS_UNKNOWN, "unknown"},
	    {NS_UP, "up"},
	    {NS_LAGGING, "lagging"},
	    {NS_DOWN, "down"},
	};
	cr_assert_eq(ARRAY_SIZE(cases), (size_t)NS__COUNT, "every state is in the table");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		cr_assert_str_eq(node_state_name(cases[i].s), cases[i].name);
	cr_assert_str_eq(node_state_name(NS__COUNT), "?");
	cr_assert_str_eq(node_state_name((NodeState)(NS__COUNT + 1)), "?");
	cr_assert_str_eq(node_state_name((NodeState)1000), "?");
	cr_assert_str_eq(node_state_name((NodeState)-1), "?");
}

/* ---- LagHistory --------------------------------------------------------- */

Test(history, empty)
{
	LagHistory h;

	memset(&h, 0, sizeof(h));
	cr_assert_eq(lag_history_when(&h, 0), -1);
	cr_assert_eq(lag_history_when(&h, 12345), -1);
	cr_assert_eq(lag_history_when(&h, UINT64_MAX), -1);
}

Test(history, newest_at_or_below)
{
	/* the master: 100 at 10s, 200 at 20s, idle (still 200) at 30s, 300 at 40s */
	static const Point pts[] = {
	    {10 * SEC, 100}, {20 * SEC, 200}, {30 * SEC, 200}, {40 * SEC, 300}};
	static const struct {
		Lsn lsn;
		int64_t want;
	} cases[] = {
	    {0, -1},
	    {99, -1}, /* below every point */
	    {100, 10 * SEC},
	    {150, 10 * SEC},
	    {199, 10 * SEC},
	    {200, 30 * SEC}, /* the newest of the two points at 200, not the oldest */
	    {250, 30 * SEC},
	    {299, 30 * SEC},
	    {300, 40 * SEC},
	    {UINT64_MAX, 40 * SEC},
	};
	LagHistory h;

	history_of(&h, pts, ARRAY_SIZE(pts));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		cr_assert_eq(lag_history_when(&h, cases[i].lsn), cases[i].want,
			     "when(%llu) = %lld, want %lld", (unsigned long long)cases[i].lsn,
			     (long long)lag_history_when(&h, cases[i].lsn),
			     (long long)cases[i].want);
}

Test(history, wraps_keeping_the_newest)
{
	static const unsigned extra[] = {
	    0, 1, 5, LAG_HISTORY - 1, LAG_HISTORY, 3 * LAG_HISTORY + 7};

	for (size_t e = 0; e < ARRAY_SIZE(extra); e++) {
		unsigned total = LAG_HISTORY + extra[e], first = extra[e];
		LagHistory h;

		/* point i: at (i+1) s, lsn 1000 * (i+1) */
		memset(&h, 0, sizeof(h));
		for (unsigned i = 0; i < total; i++)
			lag_history_add(&h, (usec_t)(i + 1) * SEC, (Lsn)(i + 1) * 1000);
		cr_assert_eq(h.n, LAG_HISTORY, "%u points: n %u", total, h.n);
		/* the dropped points are gone: an LSN below the oldest kept one is unknown */
		cr_assert_eq(lag_history_when(&h, (Lsn)first * 1000 + 999), -1,
			     "%u points: the oldest kept is point %u", total, first);
		for (unsigned i = first; i < total; i++) {
			usec_t want = (usec_t)(i + 1) * SEC;

			cr_assert_eq(lag_history_when(&h, (Lsn)(i + 1) * 1000), want,
				     "%u points: point %u", total, i);
			cr_assert_eq(lag_history_when(&h, (Lsn)(i + 1) * 1000 + 500), want);
		}
		cr_assert_eq(lag_history_when(&h, UINT64_MAX), (int64_t)total * SEC);

		/* lag_compute's "behind all history" counts from the oldest kept point */
		usec_t now = (usec_t)(total + 1) * SEC;
		Sample m = master_sample(now - SEC / 2, (Lsn)total * 1000);
		Sample r = replica_sample(now - SEC / 2, 1, -1);
		Lag lag = lag_compute(&m, &h, &r, now, 10 * SEC);
		cr_assert(lag.known);
		cr_assert_geq(lag.time, now - (usec_t)(first + 1) * SEC, "%u points: time %lld",
			      total, (long long)lag.time);
	}
}

/* ---- lag_compute -------------------------------------------------------- */

#define NOW (100 * SEC)
#define STALE (10 * SEC)

/*
 * What the table is made of (clang-format would put each field of a row on
 * a line of its own). HIST_DEFAULT: the master over the last ten seconds,
 * its latest point being its latest sample (M99).
 */
/* clang-format off */
#define HIST_DEFAULT \
	{{90 * SEC, 1000}, {92 * SEC, 2000}, {94 * SEC, 3000}, {96 * SEC, 3000}, \
	 {98 * SEC, 4000}, {99 * SEC, 5000}}
#define NO_HIST {{0, 0}}
#define M99 master_sample(99 * SEC, 5000)
#define R99(lsn, age) replica_sample(99 * SEC, (lsn), (age))
#define LAG(bytes, time) true, (bytes), (time), false
#define LAG_AT_LEAST(bytes, time) true, (bytes), (time), true
#define LAG_UNKNOWN false, 0, 0, false
/* clang-format on */

Test(compute, table)
{
	/* clang-format off */
	const struct {
		const char *name;
		Sample m, r;
		Point hist[MAX_POINTS];
		bool known;
		uint64_t bytes;
		usec_t time;
		bool time_at_least; /* time is a lower bound */
	} cases[] = {
	    /* caught up: nothing to wait for, however old the last commit */
	    {"idle master, replica caught up, replay age 1 h",
	     M99, replica_sample(99 * SEC + 500 * MS, 5000, 3600 * SEC), HIST_DEFAULT, LAG(0, 0)},
	    {"idle master, no history, no replay age", M99, R99(5000, -1), NO_HIST, LAG(0, 0)},
	    {"replica ahead of an earlier master sample",
	     master_sample(95 * SEC, 5000), R99(6000, 3600 * SEC), HIST_DEFAULT, LAG(0, 0)},
	    /* behind: min(replay age, now - when the master was at or below the replay position) */
	    {"behind, history 4 s, replay age 1 h (only checkpoints written)",
	     M99, R99(3000, 3600 * SEC), HIST_DEFAULT, LAG(2000, 4 * SEC)},
	    {"behind, replay age 1 s is less than the history's 4 s",
	     M99, R99(3000, 1 * SEC), HIST_DEFAULT, LAG(2000, 1 * SEC)},
	    {"behind between two points: the older one counts",
	     M99, R99(2500, -1), HIST_DEFAULT, LAG(2500, 8 * SEC)},
	    {"behind by one byte, only history", M99, R99(4999, -1), HIST_DEFAULT, LAG(1, 2 * SEC)},
	    {"only replay age: behind every point",
	     M99, R99(500, 20 * SEC), HIST_DEFAULT, LAG(4500, 20 * SEC)},
	    {"only replay age: no history at all",
	     M99, R99(500, 7 * SEC), NO_HIST, LAG(4500, 7 * SEC)},
	    {"neither: at least the history's span",
	     M99, R99(500, -1), HIST_DEFAULT, LAG_AT_LEAST(4500, 10 * SEC)},
	    {"across the 32-bit boundary",
	     master_sample(99 * SEC, HI(1) + 0x10), R99(0xFFFFFFF0ULL, 2 * SEC),
	     {{95 * SEC, 0xFFFFFF00ULL}, {99 * SEC, HI(1) + 0x10}}, LAG(0x20, 2 * SEC)},
	    {"samples exactly stale_after old are still recent",
	     master_sample(NOW - STALE, 5000), replica_sample(NOW - STALE, 5000, 0), HIST_DEFAULT,
	     LAG(0, 0)},
	    /* unknown */
	    {"master sample stale", master_sample(80 * SEC, 5000), R99(3000, 0), HIST_DEFAULT,
	     LAG_UNKNOWN},
	    {"master sample just past stale_after",
	     master_sample(NOW - STALE - 1, 5000), R99(3000, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"replica sample stale",
	     M99, replica_sample(85 * SEC, 3000, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"replica sample just past stale_after",
	     M99, replica_sample(NOW - STALE - 1, 3000, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"master never observed", {.replay_age = -1}, R99(3000, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"master not ok", {.at = 99 * SEC, .ok = false, .wal_lsn = 5000, .replay_age = -1},
	     R99(3000, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"master in recovery",
	     {.at = 99 * SEC, .ok = true, .in_recovery = true, .wal_lsn = 5000, .replay_age = -1},
	     R99(3000, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"master wal_lsn invalid",
	     master_sample(99 * SEC, LSN_INVALID), R99(3000, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"replica replay_lsn invalid", M99, R99(LSN_INVALID, 0), HIST_DEFAULT, LAG_UNKNOWN},
	    {"replica not ok",
	     M99, {.at = 99 * SEC, .ok = false, .in_recovery = true, .replay_lsn = 3000},
	     HIST_DEFAULT, LAG_UNKNOWN},
	    {"replica never observed", M99, {.replay_age = -1}, HIST_DEFAULT, LAG_UNKNOWN},
	};
	/* clang-format on */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		LagHistory h;
		Lag lag;

		history_of(&h, cases[i].hist, npoints(cases[i].hist));
		lag = lag_compute(&cases[i].m, &h, &cases[i].r, NOW, STALE);
		cr_assert_eq(lag.known, cases[i].known, "%s: known %d", cases[i].name, lag.known);
		if (!cases[i].known)
			continue;
		cr_assert_eq(lag.bytes, cases[i].bytes, "%s: bytes %llu, want %llu", cases[i].name,
			     (unsigned long long)lag.bytes, (unsigned long long)cases[i].bytes);
		if (cases[i].time_at_least)
			cr_assert_geq(lag.time, cases[i].time, "%s: time %lld, want at least %lld",
				      cases[i].name, (long long)lag.time, (long long)cases[i].time);
		else
			cr_assert_eq(lag.time, cases[i].time, "%s: time %lld, want %lld",
				     cases[i].name, (long long)lag.time, (long long)cases[i].time);
	}
}

Test(compute, neither_known_without_history_is_not_fresh)
{
	LagHistory h;
	Sample m = master_sample(99 * SEC, 5000), r = replica_sample(99 * SEC, 500, -1);
	Lag lag;

	memset(&h, 0, sizeof(h));
	lag = lag_compute(&m, &h, &r, NOW, STALE);
	cr_assert(lag.known);
	cr_assert_eq(lag.bytes, 4500);
	cr_assert_gt(lag.time, 0, "a replica behind with no clue of its age must not look fresh");
}

Test(compute, idle_master_never_makes_a_replica_stale)
{
	/* an hour of an idle master: history flat, the replica's last commit an hour old */
	LagHistory h;
	Lag lag;

	memset(&h, 0, sizeof(h));
	for (int t = 30; t <= 3600; t += 30)
		lag_history_add(&h, (usec_t)t * SEC, 0x3000060);
	Sample m = master_sample(3600 * SEC, 0x3000060);
	Sample r = replica_sample(3600 * SEC, 0x3000060, 3600 * SEC);
	lag = lag_compute(&m, &h, &r, 3600 * SEC + 100 * MS, STALE);
	cr_assert(lag.known);
	cr_assert_eq(lag.bytes, 0);
	cr_assert_eq(lag.time, 0);

	/* a checkpoint record the replica has not replayed yet: one poll's worth, not an hour */
	lag_history_add(&h, 3630 * SEC, 0x30000D8);
	m = master_sample(3630 * SEC, 0x30000D8);
	r = replica_sample(3630 * SEC, 0x3000060, 3630 * SEC);
	lag = lag_compute(&m, &h, &r, 3630 * SEC + 100 * MS, STALE);
	cr_assert(lag.known);
	cr_assert_eq(lag.bytes, 0x78);
	cr_assert_leq(lag.time, 30 * SEC + 100 * MS, "time %lld", (long long)lag.time);
}

/* ---- lag_judge_replica -------------------------------------------------- */

/* Limits in bytes and time, and a Lag; a replica that is fine but for what a row changes. */
/* clang-format off */
#define MB (1 << 20)
#define LIMITS(bytes, time) {.max_bytes = (bytes), .max_time = (time), .stale_after = STALE}
#define LAG_OF(b, t) {.known = true, .bytes = (b), .time = (t)}
#define FRESH LAG_OF(0, 0)
#define GOOD replica_sample(99 * SEC, 5000, 0)
#define NOT_STREAMING \
	{.at = 99 * SEC, .ok = true, .in_recovery = true, .replay_lsn = 5000, .streaming = false}
/* clang-format on */

Test(judge, replica)
{
	static const LagLimits lim = LIMITS(MB, 5 * SEC), nolim = LIMITS(0, 0),
			       timeonly = LIMITS(0, 5 * SEC), bytesonly = LIMITS(MB, 0);
	/* clang-format off */
	const struct {
		const char *name;
		Sample r;
		Lag lag;
		const LagLimits *lim;
		NodeState want;
	} cases[] = {
	    {"never measured", {.replay_age = -1}, FRESH, &lim, NS_UNKNOWN},
	    {"not ok", {.at = 99 * SEC, .ok = false, .replay_age = -1}, FRESH, &lim, NS_DOWN},
	    {"not ok, though in recovery and streaming",
	     {.at = 99 * SEC, .ok = false, .in_recovery = true, .streaming = true}, FRESH, &lim,
	     NS_DOWN},
	    {"stale", replica_sample(80 * SEC, 5000, 0), FRESH, &lim, NS_UNKNOWN},
	    {"just past stale_after", replica_sample(NOW - STALE - 1, 5000, 0), FRESH, &lim,
	     NS_UNKNOWN},
	    {"exactly stale_after old", replica_sample(NOW - STALE, 5000, 0), FRESH, &lim, NS_UP},
	    {"sample from the future (clock step)", replica_sample(NOW + 5 * SEC, 5000, 0), FRESH,
	     &lim, NS_UP},
	    {"not in recovery",
	     {.at = 99 * SEC, .ok = true, .wal_lsn = 5000}, FRESH, &lim, NS_DOWN},
	    {"WAL receiver not streaming, zero lag", NOT_STREAMING, FRESH, &lim, NS_LAGGING},
	    {"WAL receiver not streaming, no limits", NOT_STREAMING, FRESH, &nolim, NS_LAGGING},
	    {"WAL receiver not streaming, lag unknown", NOT_STREAMING, {.known = false}, &lim,
	     NS_LAGGING},
	    {"lag unknown", GOOD, {.known = false}, &lim, NS_UNKNOWN},
	    {"over max_lag_bytes", GOOD, LAG_OF(MB + 1, 0), &lim, NS_LAGGING},
	    {"exactly max_lag_bytes", GOOD, LAG_OF(MB, 0), &lim, NS_UP},
	    {"over max_lag_time", GOOD, LAG_OF(10, 5 * SEC + 1), &lim, NS_LAGGING},
	    {"exactly max_lag_time", GOOD, LAG_OF(10, 5 * SEC), &lim, NS_UP},
	    {"both exactly at the limit", GOOD, LAG_OF(MB, 5 * SEC), &lim, NS_UP},
	    {"no limits, huge lag", GOOD, LAG_OF(UINT64_MAX, 3600 * SEC), &nolim, NS_UP},
	    {"no byte limit, time over", GOOD, LAG_OF(UINT64_MAX, 6 * SEC), &timeonly, NS_LAGGING},
	    {"no byte limit, time within", GOOD, LAG_OF(UINT64_MAX, 4 * SEC), &timeonly, NS_UP},
	    {"no time limit, bytes over", GOOD, LAG_OF(MB + 1, 3600 * SEC), &bytesonly, NS_LAGGING},
	    {"no time limit, bytes within", GOOD, LAG_OF(100, 3600 * SEC), &bytesonly, NS_UP},
	    {"within limits", GOOD, LAG_OF(4096, 2 * SEC), &lim, NS_UP},
	    {"fresh", GOOD, FRESH, &lim, NS_UP},
	};
	/* clang-format on */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *why = NULL;
		NodeState got =
		    lag_judge_replica(&cases[i].r, &cases[i].lag, cases[i].lim, NOW, &why);

		cr_assert_eq(got, cases[i].want, "%s: %s (%s), want %s", cases[i].name,
			     node_state_name(got), why ? why : "(null)",
			     node_state_name(cases[i].want));
		cr_assert_not_null(why, "%s: why", cases[i].name);
		cr_assert_neq(why[0], '\0', "%s: why is empty", cases[i].name);
	}
}

Test(judge, master)
{
	const struct {
		const char *name;
		Sample m;
		NodeState want;
	} cases[] = {
	    {"never measured", {.replay_age = -1}, NS_UNKNOWN},
	    {"not ok", {.at = 99 * SEC, .ok = false, .replay_age = -1}, NS_DOWN},
	    {"stale", master_sample(80 * SEC, 5000), NS_UNKNOWN},
	    {"just past stale_after", master_sample(NOW - STALE - 1, 5000), NS_UNKNOWN},
	    {"exactly stale_after old", master_sample(NOW - STALE, 5000), NS_UP},
	    {"in recovery",
	     {.at = 99 * SEC, .ok = true, .in_recovery = true, .replay_lsn = 5000, .replay_age = 0},
	     NS_DOWN},
	    {"up", master_sample(99 * SEC, 5000), NS_UP},
	    {"up, WAL position unknown", master_sample(99 * SEC, LSN_INVALID), NS_UP},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *why = NULL;
		NodeState got = lag_judge_master(&cases[i].m, NOW, STALE, &why);

		cr_assert_eq(got, cases[i].want, "%s: %s (%s), want %s", cases[i].name,
			     node_state_name(got), why ? why : "(null)",
			     node_state_name(cases[i].want));
		cr_assert_not_null(why, "%s: why", cases[i].name);
		cr_assert_neq(why[0], '\0', "%s: why is empty", cases[i].name);
	}
}

/* ---- hyst_step ---------------------------------------------------------- */

#define MAX_STEPS 10
#define U NS_UP
#define L NS_LAGGING
#define D NS_DOWN
#define K NS_UNKNOWN

Test(hyst, sequences)
{
	static const struct {
		const char *name;
		int needed;
		bool at_once;
		int n;
		NodeState obs[MAX_STEPS];
		NodeState state[MAX_STEPS]; /* h.state after each observation */
	} cases[] = {
	    {"first observation taken at once", 3, false, 1, {U}, {U}},
	    {"first observation LAGGING at once", 3, false, 1, {L}, {L}},
	    {"first observation DOWN at once without at_once", 3, false, 1, {D}, {D}},
	    {"UNKNOWN observed while UNKNOWN: nothing", 3, false, 2, {K, U}, {K, U}},
	    {"third LAGGING switches", 3, false, 4, {U, L, L, L}, {U, U, U, L}},
	    {"interrupted streak restarts", 3, false, 6, {U, L, U, L, L, L}, {U, U, U, U, U, L}},
	    {"another state interrupts the streak",
	     3,
	     false,
	     7,
	     {U, L, L, D, L, L, L},
	     {U, U, U, U, U, U, L}},
	    {"at_once DOWN switches now", 3, true, 2, {U, D}, {U, D}},
	    {"leaving DOWN takes the count", 3, true, 5, {U, D, U, U, U}, {U, D, D, D, U}},
	    {"at_once does not hurry LAGGING", 3, true, 4, {U, L, L, L}, {U, U, U, L}},
	    {"at_once does not hurry UNKNOWN", 3, true, 4, {U, K, K, K}, {U, U, U, K}},
	    {"without at_once DOWN waits", 3, false, 4, {U, D, D, D}, {U, U, U, D}},
	    {"needed 1 switches every time", 1, false, 6, {U, L, U, D, K, U}, {U, L, U, D, K, U}},
	    {"needed 2", 2, false, 6, {U, L, U, L, L, U}, {U, U, U, U, L, L}},
	    {"back from UNKNOWN: taken at once as a first observation",
	     2,
	     false,
	     5,
	     {U, K, K, L, U},
	     {U, U, K, L, L}},
	    {"the same state again keeps it", 3, false, 4, {L, L, L, L}, {L, L, L, L}},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		Hysteresis h;
		NodeState prev;

		memset(&h, 0, sizeof(h));
		cr_assert_eq(h.state, NS_UNKNOWN);
		for (int k = 0; k < cases[i].n; k++) {
			bool changed;

			prev = h.state;
			changed = hyst_step(&h, cases[i].obs[k], cases[i].needed, cases[i].at_once);
			cr_assert_eq(h.state, cases[i].state[k], "%s: step %d (%s): %s, want %s",
				     cases[i].name, k, node_state_name(cases[i].obs[k]),
				     node_state_name(h.state), node_state_name(cases[i].state[k]));
			cr_assert_eq(changed, h.state != prev, "%s: step %d returned %d",
				     cases[i].name, k, changed);
		}
	}
}

#undef U
#undef L
#undef D
#undef K

/* ---- the whole chain: a paused replica ---------------------------------- */

/*
 * Polls every second. The master commits 1000 bytes before each poll, so a
 * replica that keeps up has replay_age 0.1 s (it is polled 0.1 s after the
 * master; the judgement runs at 0.2 s). Replay stops at tick 10 and resumes
 * at tick 20 (half-way), catching up at tick 21. max_lag_time 3 s: the lag
 * time at tick t is min(replay age, now - 10 s) = t - 9.9 s, so the first
 * LAGGING observation is tick 13 and, with 3 needed, the state switches at
 * tick 15. Back: tick 20 is still 5 s behind, ticks 21, 22, 23 are UP and
 * the switch is at 23.
 */
Test(chain, paused_replica)
{
	static const LagLimits lim = {
	    .max_bytes = 1 << 30, .max_time = 3 * SEC, .stale_after = 5 * SEC};
	const int needed = 3, pause_at = 10, resume_at = 20, caught_up_at = 21;
	LagHistory h;
	Hysteresis hy;
	int switches = 0;

	memset(&h, 0, sizeof(h));
	memset(&hy, 0, sizeof(hy));
	for (int t = 1; t <= 30; t++) {
		usec_t tick = (usec_t)t * SEC, now = tick + 200 * MS;
		Lsn wal = (Lsn)t * 1000, replay;
		int last_commit; /* the tick whose commit the replica replayed last */
		const char *why = NULL;
		NodeState want_obs, want_state, obs;
		bool changed;

		if (t < pause_at || t >= caught_up_at)
			last_commit = t;
		else if (t < resume_at)
			last_commit = pause_at;
		else
			last_commit = 15; /* half-way through the backlog */
		replay = (Lsn)last_commit * 1000;

		Sample m = master_sample(tick, wal);
		lag_history_add(&h, m.at, m.wal_lsn);
		Sample r = replica_sample(tick + 100 * MS, replay,
					  (int64_t)(tick + 100 * MS - (usec_t)last_commit * SEC));
		Lag lag = lag_compute(&m, &h, &r, now, lim.stale_after);
		cr_assert(lag.known, "tick %d", t);
		cr_assert_eq(lag.bytes, lsn_diff(wal, replay), "tick %d", t);
		if (last_commit == t)
			cr_assert_eq(lag.time, 0, "tick %d: caught up", t);
		else
			cr_assert_eq(lag.time, now - (usec_t)last_commit * SEC - 100 * MS,
				     "tick %d: time %lld", t, (long long)lag.time);

		obs = lag_judge_replica(&r, &lag, &lim, now, &why);
		want_obs = (t >= 13 && t <= 20) ? NS_LAGGING : NS_UP;
		cr_assert_eq(obs, want_obs, "tick %d: observed %s (%s)", t, node_state_name(obs),
			     why);
		changed = hyst_step(&hy, obs, needed, false);
		want_state = (t >= 15 && t <= 22) ? NS_LAGGING : NS_UP;
		cr_assert_eq(hy.state, want_state, "tick %d: state %s", t,
			     node_state_name(hy.state));
		cr_assert_eq(changed, t == 1 || t == 15 || t == 23, "tick %d: changed %d", t,
			     changed);
		switches += changed;
	}
	cr_assert_eq(switches, 3, "unknown -> up, up -> lagging, lagging -> up");
}

/*
 * The same replica whose WAL receiver stops (the master gone quiet for it):
 * its numbers stay perfect, but it is LAGGING after the hysteresis count,
 * and UP again the same way once streaming resumes.
 */
Test(chain, receiver_down_with_perfect_numbers)
{
	static const LagLimits lim = {
	    .max_bytes = 1 << 20, .max_time = 3 * SEC, .stale_after = 5 * SEC};
	LagHistory h;
	Hysteresis hy;

	memset(&h, 0, sizeof(h));
	memset(&hy, 0, sizeof(hy));
	for (int t = 1; t <= 12; t++) {
		usec_t tick = (usec_t)t * SEC;
		const char *why = NULL;
		Sample m = master_sample(tick, 5000);
		Sample r = replica_sample(tick, 5000, 0);

		r.streaming = !(t >= 4 && t <= 7);
		lag_history_add(&h, m.at, m.wal_lsn);
		Lag lag = lag_compute(&m, &h, &r, tick + 10 * MS, lim.stale_after);
		cr_assert(lag.known);
		cr_assert_eq(lag.bytes, 0);
		cr_assert_eq(lag.time, 0);
		NodeState obs = lag_judge_replica(&r, &lag, &lim, tick + 10 * MS, &why);
		cr_assert_eq(obs, r.streaming ? NS_UP : NS_LAGGING, "tick %d", t);
		hyst_step(&hy, obs, 3, false);
		cr_assert_eq(hy.state, (t >= 6 && t <= 9) ? NS_LAGGING : NS_UP, "tick %d: %s", t,
			     node_state_name(hy.state));
	}
}
