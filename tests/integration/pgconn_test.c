/*
 * pgconn_test.c - replication/pgconn.c against a real server: connect,
 * results and SQL errors, a query timeout, a refused connection, a peer that
 * never answers (connect timeout), and freeing a PgConn from its own
 * callback. Usage: pgconn_test PORT (password from PGPASSWORD).
 * Prints "N passed, N failed".
 */
#include "pgconn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ev_loop *loop;
static int passed, failed;
static char port[16];

static void check(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (ok)
		passed++;
	else
		failed++;
}

typedef struct Step {
	bool done;
	bool ok;
	char err[256];
	char value[256];
	char sqlstate[8];
	ExecStatusType status;
	bool free_in_cb;
} Step;

static void on_connect(PgConn *pc, bool ok, const char *err, void *arg)
{
	Step *st = arg;
	st->done = true;
	st->ok = ok;
	snprintf(st->err, sizeof(st->err), "%s", err ? err : "");
	if (st->free_in_cb)
		pgconn_free(pc);
	ev_break(loop, EVBREAK_ONE);
}

static void on_result(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	Step *st = arg;
	(void)pc;
	st->done = true;
	st->ok = res != NULL;
	snprintf(st->err, sizeof(st->err), "%s", err ? err : "");
	if (res) {
		const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		st->status = PQresultStatus(res);
		snprintf(st->sqlstate, sizeof(st->sqlstate), "%s", code ? code : "");
		if (st->status == PGRES_TUPLES_OK && PQntuples(res) == 1)
			snprintf(st->value, sizeof(st->value), "%s|%s", PQgetvalue(res, 0, 0),
				 PQnfields(res) > 1 ? PQgetvalue(res, 0, 1) : "");
	}
	ev_break(loop, EVBREAK_ONE);
}

static void on_guard(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ONE);
}

/* Runs the loop until the step is done or 10 s pass; returns the elapsed seconds. */
static double run_step(Step *st)
{
	ev_timer guard;
	double t0 = ev_time();
	ev_timer_init(&guard, on_guard, 10., 0.);
	ev_timer_start(loop, &guard);
	while (!st->done && ev_time() - t0 < 10.)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	return ev_time() - t0;
}

static PgConn *make_conn(const char *p)
{
	const char *keys[] = {"hostaddr", "port", "user", "password", "dbname",
			      "application_name", NULL};
	const char *vals[] = {"127.0.0.1", p, "postgres", getenv("PGPASSWORD"), "postgres",
			      "pgconn_test", NULL};
	return pgconn_new(loop, keys, vals);
}

int main(int argc, char **argv)
{
	Step st;
	PgConn *pc;
	int lfd;
	struct sockaddr_in sin = {0};
	socklen_t slen = sizeof(sin);
	char silent_port[16];
	double secs;

	if (argc != 2) {
		fprintf(stderr, "usage: pgconn_test PORT\n");
		return 2;
	}
	snprintf(port, sizeof(port), "%s", argv[1]);
	loop = ev_default_loop(0);

	/* connect and query */
	pc = make_conn(port);
	memset(&st, 0, sizeof(st));
	check(pgconn_connect(pc, 5 * USEC_PER_SEC, on_connect, &st), "connect starts");
	run_step(&st);
	check(st.done && st.ok && pgconn_is_ready(pc), "connects to the master");
	memset(&st, 0, sizeof(st));
	check(pgconn_query(pc, "select pg_is_in_recovery(), 6 * 7", USEC_PER_SEC, on_result, &st),
	      "query starts");
	check(!pgconn_query(pc, "select 1", USEC_PER_SEC, on_result, &st),
	      "a second query while one runs is refused");
	run_step(&st);
	check(st.ok && st.status == PGRES_TUPLES_OK && strcmp(st.value, "f|42") == 0,
	      "result: pg_is_in_recovery() = f, 42");

	/* an SQL error is a result, and the connection stays usable */
	memset(&st, 0, sizeof(st));
	check(pgconn_query(pc, "select 1/0", USEC_PER_SEC, on_result, &st), "error query starts");
	run_step(&st);
	check(st.ok && st.status == PGRES_FATAL_ERROR && strcmp(st.sqlstate, "22012") == 0,
	      "division by zero comes back as 22012");
	memset(&st, 0, sizeof(st));
	check(pgconn_query(pc, "select 'again', 1", USEC_PER_SEC, on_result, &st) , "next query starts");
	run_step(&st);
	check(st.ok && strcmp(st.value, "again|1") == 0, "the connection is usable after an error");

	/* a query timeout drops the connection */
	memset(&st, 0, sizeof(st));
	check(pgconn_query(pc, "select pg_sleep(5)", 200 * USEC_PER_MS, on_result, &st),
	      "slow query starts");
	secs = run_step(&st);
	check(st.done && !st.ok && strstr(st.err, "timed out") && secs < 2.,
	      "a query over its timeout fails within the timeout");
	check(!pgconn_is_ready(pc), "the timed-out connection is not ready");
	memset(&st, 0, sizeof(st));
	check(pgconn_connect(pc, 5 * USEC_PER_SEC, on_connect, &st), "reconnect starts");
	run_step(&st);
	check(st.ok && pgconn_is_ready(pc), "reconnects after the timeout");
	pgconn_free(pc);

	/* a refused connection fails fast with libpq's reason */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) < 0) {
		perror("socket");
		return 2;
	}
	snprintf(silent_port, sizeof(silent_port), "%d", ntohs(sin.sin_port));
	/* bound but not listening: connections are refused */
	pc = make_conn(silent_port);
	memset(&st, 0, sizeof(st));
	if (pgconn_connect(pc, 5 * USEC_PER_SEC, on_connect, &st))
		secs = run_step(&st);
	else
		st.done = true, secs = 0;
	check(st.done && !st.ok && secs < 2., "a refused connection fails at once");
	check(strlen(pgconn_error(pc)) > 0, "with a reason");
	pgconn_free(pc);

	/* listening but never answering: our connect timeout fires */
	if (listen(lfd, 4) < 0) {
		perror("listen");
		return 2;
	}
	pc = make_conn(silent_port);
	memset(&st, 0, sizeof(st));
	st.free_in_cb = true; /* and the callback frees the connection */
	check(pgconn_connect(pc, 300 * USEC_PER_MS, on_connect, &st), "connect to a silent peer starts");
	secs = run_step(&st);
	check(st.done && !st.ok && strstr(st.err, "timed out") && secs < 2.,
	      "a peer that never answers times out");
	close(lfd);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
