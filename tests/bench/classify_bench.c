/*
 * classify_bench.c - micro-benchmark of classify_sql() (proxy/classify.c):
 * the time to classify every statement of PostgreSQL's regression suite
 * (extracted by tests/classify/extract.c), per statement size, and the
 * time for a few typical short statements. Not a test: it prints numbers.
 *
 * Usage: classify_bench [--passes N] [--reps N] [SQLDIR]
 *   --passes  whole-corpus passes, each statement classified once a pass (default 20)
 *   --reps    back-to-back classifications of each statement, for its own time (best of
 *             3 rounds; default 20)
 */
#include "classify.h"
#include "extract.h"

#include <pg_query.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile uint32_t bench_sink;

static uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void bench_classify(const char *sql, size_t len, const ClassifyOptions *opt)
{
	StmtInfo info;

	classify_sql(sql, len, opt, &info);
	bench_sink += (uint32_t)info.cls + info.reason;
}

typedef struct BenchStmt {
	const ExtractStmt *st;
	double ns; /* mean of --reps back-to-back calls */
} BenchStmt;

static int bench_cmp_ns(const void *a, const void *b)
{
	double x = ((const BenchStmt *)a)->ns, y = ((const BenchStmt *)b)->ns;

	return x < y ? -1 : x > y;
}

enum { BUCKET_SMALL, BUCKET_MEDIUM, BUCKET_LARGE, BUCKET_COUNT };

static int bench_bucket(size_t len)
{
	return len < 64 ? BUCKET_SMALL : len <= 256 ? BUCKET_MEDIUM : BUCKET_LARGE;
}

int main(int argc, char **argv)
{
	const char *dir = "../shared/pgregress/sql";
	long passes = 20, reps = 20;
	ExtractSet set = {0};
	ClassifyOptions opt;
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc) {
			passes = strtol(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			reps = strtol(argv[++i], NULL, 10);
		} else if (argv[i][0] != '-') {
			dir = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--passes N] [--reps N] [SQLDIR]\n", argv[0]);
			return 2;
		}
	}
	if (passes < 1 || reps < 1) {
		fprintf(stderr, "classify_bench: --passes and --reps must be at least 1\n");
		return 2;
	}
	if (!extract_load_dir(dir, &set, err, sizeof(err))) {
		fprintf(stderr, "classify_bench: %s\n", err);
		return 2;
	}
	pg_query_exit();
	memset(&opt, 0, sizeof(opt));
	size_t n = set.nstmts, bytes = 0;
	size_t count[BUCKET_COUNT] = {0};
	for (size_t i = 0; i < n; i++) {
		bytes += set.stmts[i].len;
		count[bench_bucket(set.stmts[i].len)]++;
	}
	printf("classify_bench: %zu statements (%zu bytes, mean %.0f bytes) from %zu files\n", n,
	       bytes, n ? (double)bytes / (double)n : 0.0, set.nfiles);
	if (n == 0)
		return 2;

	/* 1. whole-corpus passes: each statement once a pass, in file order */
	for (size_t i = 0; i < n; i++) /* warm-up */
		bench_classify(set.stmts[i].text, set.stmts[i].len, &opt);
	uint64_t best = UINT64_MAX, total = 0;
	for (long p = 0; p < passes; p++) {
		uint64_t t0 = bench_now_ns();
		for (size_t i = 0; i < n; i++)
			bench_classify(set.stmts[i].text, set.stmts[i].len, &opt);
		uint64_t dt = bench_now_ns() - t0;
		total += dt;
		if (dt < best)
			best = dt;
	}
	printf("corpus passes (%ld): mean %.1f ns/statement (best pass %.1f), %.2f ns/byte, "
	       "%.0f MB/s\n",
	       passes, (double)total / (double)passes / (double)n, (double)best / (double)n,
	       (double)total / (double)passes / (double)bytes,
	       (double)bytes * (double)passes / ((double)total / 1e9) / 1e6);

	/* 2. per statement: reps back-to-back calls each */
	BenchStmt *bs = calloc(n, sizeof(*bs));
	if (!bs)
		return 2;
	double bucket_ns[BUCKET_COUNT] = {0};
	size_t bucket_bytes[BUCKET_COUNT] = {0};
	for (size_t i = 0; i < n; i++) {
		const ExtractStmt *st = &set.stmts[i];
		uint64_t min = UINT64_MAX;
		for (int round = 0; round < 3; round++) { /* the best of 3: drops interrupts */
			uint64_t t0 = bench_now_ns();
			for (long r = 0; r < reps; r++)
				bench_classify(st->text, st->len, &opt);
			uint64_t dt = bench_now_ns() - t0;
			if (dt < min)
				min = dt;
		}
		bs[i].st = st;
		bs[i].ns = (double)min / (double)reps;
		bucket_ns[bench_bucket(st->len)] += bs[i].ns;
		bucket_bytes[bench_bucket(st->len)] += st->len;
	}
	static const char *const names[BUCKET_COUNT] = {"< 64 bytes", "64-256 bytes",
							"> 256 bytes"};
	printf("per statement (best of 3 rounds of %ld back-to-back calls), by size:\n", reps);
	for (int b = 0; b < BUCKET_COUNT; b++)
		if (count[b])
			printf("  %-13s %6zu statements, mean %7.1f ns (%.2f ns/byte)\n", names[b],
			       count[b], bucket_ns[b] / (double)count[b],
			       bucket_ns[b] / (double)bucket_bytes[b]);
	qsort(bs, n, sizeof(*bs), bench_cmp_ns);
	printf("  percentiles: p50 %.1f ns, p90 %.1f ns, p99 %.1f ns, max %.1f ns\n", bs[n / 2].ns,
	       bs[n * 9 / 10].ns, bs[n * 99 / 100].ns, bs[n - 1].ns);
	printf("  slowest:\n");
	for (size_t k = 0; k < 5 && k < n; k++) {
		const BenchStmt *b = &bs[n - 1 - k];
		printf("    %8.1f ns  %6zu bytes  %s:%d\n", b->ns, b->st->len, b->st->file,
		       b->st->line);
	}

	/* 3. typical short statements */
	static const char *const typical[] = {
	    "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
	    "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
	    "BEGIN",
	    "SELECT 1",
	    NULL,
	};
	const long iters = 1000000;
	printf("typical statements (%ld calls each):\n", iters);
	for (int t = 0; typical[t]; t++) {
		size_t len = strlen(typical[t]);
		StmtInfo info;
		classify_sql(typical[t], len, &opt, &info);
		uint64_t t0 = bench_now_ns();
		for (long r = 0; r < iters; r++)
			bench_classify(typical[t], len, &opt);
		double ns = (double)(bench_now_ns() - t0) / (double)iters;
		printf("  %7.1f ns  %-9s %-16s %s\n", ns, classify_class_name(info.cls),
		       classify_reason_name(info.reason), typical[t]);
	}
	free(bs);
	extract_free_set(&set);
	return 0;
}
