/*
 * pipeline.c - libpq pipeline-mode test program for the integration suite (t_pipeline.sh):
 * sends several batches through pgrelay before reading any result (parameterized queries,
 * prepare / execute-prepared / describe, a statement that fails in the middle of a batch so
 * that the rest of that batch is aborted up to its sync, a batch after it that works, an
 * explicit transaction spanning syncs, a long batch), then checks every result in order.
 *
 *   pipeline CONNINFO     exits 0 when every check passed, 1 otherwise (details on stderr)
 *
 * The table it_pipe (id int) must exist and be empty.
 */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LONG_BATCH 300

static PGconn *conn;
static int failures;
static int checks;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	failures++;
}

static void die(const char *what)
{
	fprintf(stderr, "FATAL: %s: %s\n", what, PQerrorMessage(conn));
	PQfinish(conn);
	exit(1);
}

static void send_ok(int ok, const char *what)
{
	if (!ok)
		die(what);
}

/* Gets the next result, checks its status, and (for a query) the NULL that ends it. */
static PGresult *next_result(ExecStatusType want, const char *what)
{
	PGresult *res = PQgetResult(conn);
	ExecStatusType got;

	checks++;
	if (!res) {
		fail("%s: no result (wanted %s)", what, PQresStatus(want));
		return NULL;
	}
	got = PQresultStatus(res);
	if (got != want) {
		fail("%s: status %s, wanted %s (%s)", what, PQresStatus(got), PQresStatus(want),
		     PQresultErrorMessage(res));
	}
	if (got != PGRES_PIPELINE_SYNC) {
		PGresult *end = PQgetResult(conn);
		if (end) {
			fail("%s: a second result (%s) instead of the end of the query", what,
			     PQresStatus(PQresultStatus(end)));
			PQclear(end);
		}
	}
	return res;
}

static void expect_status(ExecStatusType want, const char *what)
{
	PQclear(next_result(want, what));
}

static void expect_value(const char *want, const char *what)
{
	PGresult *res = next_result(PGRES_TUPLES_OK, what);

	if (!res)
		return;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (PQntuples(res) != 1 || PQnfields(res) < 1)
			fail("%s: %d rows, %d columns", what, PQntuples(res), PQnfields(res));
		else if (strcmp(PQgetvalue(res, 0, 0), want) != 0)
			fail("%s: value '%s', wanted '%s'", what, PQgetvalue(res, 0, 0), want);
	}
	PQclear(res);
}

static void expect_error(const char *sqlstate, const char *what)
{
	PGresult *res = next_result(PGRES_FATAL_ERROR, what);
	const char *got;

	if (!res)
		return;
	got = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (!got || strcmp(got, sqlstate) != 0)
		fail("%s: SQLSTATE %s, wanted %s", what, got ? got : "(none)", sqlstate);
	PQclear(res);
}

static void send_params(const char *sql, int n, const char *const *values)
{
	send_ok(PQsendQueryParams(conn, sql, n, NULL, values, NULL, NULL, 0), sql);
}

static void send_prepared(const char *name, const char *value)
{
	const char *values[1] = {value};

	send_ok(PQsendQueryPrepared(conn, name, 1, values, NULL, NULL, 0), "PQsendQueryPrepared");
}

static void send_sync(void)
{
	send_ok(PQpipelineSync(conn), "PQpipelineSync");
}

int main(int argc, char **argv)
{
	const char *one[1];
	char buf[64];
	PGresult *res;

	if (argc != 2) {
		fprintf(stderr, "usage: pipeline CONNINFO\n");
		return 2;
	}
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
		die("connect");
	if (!PQenterPipelineMode(conn))
		die("PQenterPipelineMode");
	if (PQpipelineStatus(conn) != PQ_PIPELINE_ON)
		fail("pipeline status is not ON");

	/* ---- batch 1: everything succeeds */
	one[0] = "41";
	send_params("select $1::int + 1", 1, one);
	send_ok(PQsendPrepare(conn, "it_stmt", "select $1::text || '!'", 1, NULL), "PQsendPrepare");
	send_prepared("it_stmt", "hi");
	send_ok(PQsendDescribePrepared(conn, "it_stmt"), "PQsendDescribePrepared");
	one[0] = "1";
	send_params("insert into it_pipe values ($1)", 1, one);
	send_sync();

	/* ---- batch 2, sent before reading batch 1: an error in the middle */
	one[0] = "2";
	send_params("insert into it_pipe values ($1)", 1, one);
	send_params("select 1 / 0", 0, NULL);
	send_prepared("it_stmt", "aborted");
	one[0] = "3";
	send_params("insert into it_pipe values ($1)", 1, one);
	send_sync();

	/* ---- batch 3: works again; batch 2's implicit transaction was rolled back */
	send_prepared("it_stmt", "after");
	send_params("select string_agg(id::text, ',' order by id) from it_pipe", 0, NULL);
	send_ok(PQsendPrepare(conn, "it_stmt", "select 1", 0, NULL), "PQsendPrepare again");
	send_sync();

	/* ---- read batch 1 */
	expect_value("42", "batch 1: parameterized select");
	expect_status(PGRES_COMMAND_OK, "batch 1: prepare");
	expect_value("hi!", "batch 1: execute prepared");
	res = next_result(PGRES_COMMAND_OK, "batch 1: describe prepared");
	if (res && PQnparams(res) != 1)
		fail("batch 1: describe prepared: %d parameters, wanted 1", PQnparams(res));
	if (res && PQnfields(res) != 1)
		fail("batch 1: describe prepared: %d columns, wanted 1", PQnfields(res));
	PQclear(res);
	expect_status(PGRES_COMMAND_OK, "batch 1: insert");
	expect_status(PGRES_PIPELINE_SYNC, "batch 1: sync");

	/* ---- read batch 2 */
	expect_status(PGRES_COMMAND_OK, "batch 2: insert before the error");
	expect_error("22012", "batch 2: division by zero");
	expect_status(PGRES_PIPELINE_ABORTED, "batch 2: execute prepared after the error");
	expect_status(PGRES_PIPELINE_ABORTED, "batch 2: insert after the error");
	expect_status(PGRES_PIPELINE_SYNC, "batch 2: sync");

	/* ---- read batch 3 */
	expect_value("after!", "batch 3: execute prepared");
	expect_value("1", "batch 3: rows of it_pipe");
	expect_error("42P05", "batch 3: prepare of an existing name");
	expect_status(PGRES_PIPELINE_SYNC, "batch 3: sync");
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		fail("transaction status after batch 3: %d", (int)PQtransactionStatus(conn));

	/* ---- batch 4: an explicit transaction across syncs, with an error inside it */
	send_params("begin", 0, NULL);
	one[0] = "10";
	send_params("insert into it_pipe values ($1)", 1, one);
	send_sync();
	send_params("select missing_column from it_pipe", 0, NULL);
	send_params("select 1", 0, NULL);
	send_sync();
	send_params("select 2", 0, NULL);
	send_sync();
	send_params("rollback", 0, NULL);
	send_params("select count(*) from it_pipe where id = 10", 0, NULL);
	send_sync();

	expect_status(PGRES_COMMAND_OK, "batch 4: begin");
	expect_status(PGRES_COMMAND_OK, "batch 4: insert");
	expect_status(PGRES_PIPELINE_SYNC, "batch 4: first sync");
	expect_error("42703", "batch 4: unknown column");
	expect_status(PGRES_PIPELINE_ABORTED, "batch 4: select after the error");
	expect_status(PGRES_PIPELINE_SYNC, "batch 4: second sync");
	expect_error("25P02", "batch 4: statement in the failed transaction");
	expect_status(PGRES_PIPELINE_SYNC, "batch 4: third sync");
	expect_status(PGRES_COMMAND_OK, "batch 4: rollback");
	expect_value("0", "batch 4: the insert was rolled back");
	expect_status(PGRES_PIPELINE_SYNC, "batch 4: last sync");

	/* ---- batch 5: a long batch, every statement its own sync every 10 */
	for (int i = 0; i < LONG_BATCH; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		one[0] = buf;
		send_params("select $1::int * 2", 1, one);
		if (i % 10 == 9)
			send_sync();
	}
	send_sync();
	for (int i = 0; i < LONG_BATCH; i++) {
		char want[32], what[64];
		snprintf(want, sizeof(want), "%d", i * 2);
		snprintf(what, sizeof(what), "batch 5: statement %d", i);
		expect_value(want, what);
		if (i % 10 == 9)
			expect_status(PGRES_PIPELINE_SYNC, "batch 5: sync");
	}
	expect_status(PGRES_PIPELINE_SYNC, "batch 5: last sync");

	/* ---- leave pipeline mode; ordinary queries work */
	if (!PQexitPipelineMode(conn))
		die("PQexitPipelineMode");
	res = PQexec(conn, "select count(*) from it_pipe");
	checks++;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || strcmp(PQgetvalue(res, 0, 0), "1") != 0)
		fail("after pipeline mode: %s %s", PQresStatus(PQresultStatus(res)),
		     PQresultErrorMessage(res));
	PQclear(res);

	PQfinish(conn);
	if (failures) {
		fprintf(stderr, "%d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("pipeline: %d checks passed\n", checks);
	return 0;
}
