/*
 * test_config.c - unit tests for the configuration loader and the auth file
 * parser (proxy/config.c, proxy/authfile.c): a full file, defaults, every key type's good and
 * bad values (the monitor, lag, read-your-writes and failover keys too),
 * sections, nodes (weights by role; priority, promote, replication_slot),
 * [databases] mappings, the [users] section, config_ryw_mode() precedence,
 * the monitor_user and promote_user requirements, the
 * read_only_functions / write_functions lists and config_func_listed(),
 * exact error messages with line numbers, relative auth_file and
 * state_file resolution and userlist parsing.
 */
#include "config.h"
#include "balance.h" /* BalancePolicy values behind Config.load_balance */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

#define NODE0 "[node.n0]\nhost = 127.0.0.1\nport = 5432\nrole = master\n"
/* A [pgrelay] header plus one line, so the key under test is on line 3. */
#define HEAD "[pgrelay]\nauth_file = users.txt\n"

static char errbuf[1024];

static Config *load(const char *text)
{
	errbuf[0] = '\0';
	return config_load_string("test.ini", text, errbuf, sizeof(errbuf));
}

/* Loads text that must fail and checks the exact message. */
static void expect_error(const char *what, const char *text, const char *msg)
{
	Config *cfg = load(text);

	cr_expect_null(cfg, "%s: loaded although it should fail with \"%s\"", what, msg);
	config_free(cfg);
	cr_expect_str_eq(errbuf, msg, "%s:\n  got      \"%s\"\n  expected \"%s\"", what, errbuf,
			 msg);
}

static Config *expect_load(const char *what, const char *text)
{
	Config *cfg = load(text);

	cr_assert_not_null(cfg, "%s: %s", what, errbuf);
	return cfg;
}

/* The value config_key_at() reports for name. */
static void key_value(const Config *cfg, const char *name, char *out, size_t outlen)
{
	const char *sec, *n;

	for (size_t i = 0; config_key_at(cfg, i, &sec, &n, out, outlen); i++) {
		if (strcmp(n, name) == 0) {
			cr_assert_str_eq(sec, "pgrelay");
			return;
		}
	}
	cr_assert_fail("no key %s", name);
}

/* A scratch directory per test, removed with its files by tmp_cleanup(). */
static char tmpdir[64];
static char tmpfiles[8][256];
static size_t ntmpfiles;

static void tmp_setup(void)
{
	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	ntmpfiles = 0;
}

static void tmp_cleanup(void)
{
	for (size_t i = 0; i < ntmpfiles; i++)
		unlink(tmpfiles[i]);
	rmdir(tmpdir);
}

/* Writes len bytes (embedded NULs allowed) to tmpdir/name; returns the path. */
static const char *tmp_write(const char *name, const char *data, size_t len)
{
	char *path;
	FILE *f;

	cr_assert_lt(ntmpfiles, ARRAY_SIZE(tmpfiles));
	path = tmpfiles[ntmpfiles++];
	snprintf(path, sizeof(tmpfiles[0]), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static const char *tmp_write_str(const char *name, const char *text)
{
	return tmp_write(name, text, strlen(text));
}

/* ---- a complete file ------------------------------------------------------ */

static const char full_text[] =
    "; pgrelay test configuration\n"					       /* 1 */
    "# hash comments too\n"						       /* 2 */
    "[pgrelay]\n"							       /* 3 */
    "listen_addr = 127.0.0.1, ::1 ,10.0.0.1\n"				       /* 4 */
    "listen_port = 7432\n"						       /* 5 */
    "auth_type = md5\n"							       /* 6 */
    "auth_file = /etc/pgrelay/userlist.txt\n"				       /* 7 */
    "pool_size = 7\n"							       /* 8 */
    "max_client_conn = 250\n"						       /* 9 */
    "max_message_size = 16MB\n"						       /* 10 */
    "connect_timeout = 2.5\n"						       /* 11 */
    "client_login_timeout = 15\n"					       /* 12 */
    "server_idle_timeout = 0\n"						       /* 13 */
    "client_idle_timeout = 3600\n"					       /* 14 */
    "query_wait_timeout = 0.25\n"					       /* 15 */
    "shutdown_timeout = 10 ; inline comment\n"				       /* 16 */
    "server_reset_query = RESET ALL\n"					       /* 17 */
    "log_level = debug\n"						       /* 18 */
    "route_reads = off\n"						       /* 19 */
    "load_balance = Least_Conn\n"					       /* 20 */
    "read_only_functions = now_utc, geo.\"Distance\",\"Has,Comma\"\n"	       /* 21 */
    "write_functions = public.Bump_Counter , audit.log\n"		       /* 22 */
    "monitor_user = pgrelay_mon\n"					       /* 23 */
    "monitor_password = mon secret\n"					       /* 24 */
    "function_cache_ttl = 60\n"						       /* 25 */
    "replica_retry_interval = 0.5\n"					       /* 26 */
    "monitor_interval = 0.5\n"						       /* 27 */
    "monitor_timeout = 2\n"						       /* 28 */
    "monitor_hysteresis = 5\n"						       /* 29 */
    "monitor_dbname = mon_db\n"						       /* 30 */
    "max_lag_bytes = 1GB\n"						       /* 31 */
    "max_lag_time = 2.5\n"						       /* 32 */
    "no_fresh_replica = Wait\n"						       /* 33 */
    "no_fresh_replica_timeout = 0.25\n"					       /* 34 */
    "read_your_writes = global\n"					       /* 35 */
    "read_your_writes_wait = 0.1\n"					       /* 36 */
    "failover = off\n"							       /* 37 */
    "failover_after = 5\n"						       /* 38 */
    "failover_timeout = 12.5\n"						       /* 39 */
    "max_failover_lag = 64MB\n"						       /* 40 */
    "write_wait_timeout = 0\n"						       /* 41 */
    "promote_user = pgrelay_admin\n"					       /* 42 */
    "promote_password = admin secret\n"					       /* 43 */
    "promote_command = /usr/local/bin/promote %n %h:%p 100%%\n"		       /* 44 */
    "follow_command = follow.sh %n %h %p %N %H %P\n"			       /* 45 */
    "state_file = pgrelay.state\n"					       /* 46 */
    "fence_old_master = no\n"						       /* 47 */
    "replication_user = replicator\n"					       /* 48 */
    "replication_password = repl pw\n"					       /* 49 */
    "\n"								       /* 50 */
    "[node.primary]\n"							       /* 51 */
    "host = 10.1.0.1\n"							       /* 52 */
    "port = 5432\n"							       /* 53 */
    "role = master\n"							       /* 54 */
    "weight = 2\n"							       /* 55 */
    "promote = never\n"							       /* 56 */
    "replication_slot = primary_slot\n"					       /* 57 */
    "[node.replica-1]\n"						       /* 58 */
    "host = db-replica.example\n"					       /* 59 */
    "port = 5433\n"							       /* 60 */
    "weight = 0\n"							       /* 61 */
    "role = replica\n"							       /* 62 */
    "priority = 250\n"							       /* 63 */
    "promote = AUTO\n"							       /* 64 */
    "replication_slot = replica_1\n"					       /* 65 */
    "[node.r_2]\n"							       /* 66 */
    "port = 5434\n"							       /* 67 */
    "host = ::1\n"							       /* 68 */
    "priority = 0\n"							       /* 69 */
    "[databases]\n"							       /* 70 */
    "app = dbname=app_prod user=app password=s3cret pool_size=5\n"	       /* 71 */
    "quoted = user='my user' password='it''s a secret' read_your_writes=off\n" /* 72 */
    "empty =\n"								       /* 73 */
    "* = dbname=fallback read_your_writes=SESSION\n"			       /* 74 */
    "[users]\n"								       /* 75 */
    "alice = read_your_writes=off\n"					       /* 76 */
    "bob =\n";								       /* 77 */

Test(config, full_file)
{
	Config *cfg = expect_load("full", full_text);
	const CfgDatabase *db;

	cr_expect_str_eq(cfg->path, "test.ini");
	cr_assert_eq(cfg->nlisten, 3);
	cr_expect_str_eq(cfg->listen_addr[0], "127.0.0.1");
	cr_expect_str_eq(cfg->listen_addr[1], "::1");
	cr_expect_str_eq(cfg->listen_addr[2], "10.0.0.1");
	cr_expect_eq(cfg->listen_port, 7432);
	cr_expect_eq(cfg->auth_type, AUTH_MD5);
	cr_expect_str_eq(cfg->auth_file, "/etc/pgrelay/userlist.txt");
	cr_expect_eq(cfg->pool_size, 7);
	cr_expect_eq(cfg->max_client_conn, 250);
	cr_expect_eq(cfg->max_message_size, 16u * 1024 * 1024);
	cr_expect_eq(cfg->connect_timeout, 2500000);
	cr_expect_eq(cfg->client_login_timeout, 15 * USEC_PER_SEC);
	cr_expect_eq(cfg->server_idle_timeout, 0);
	cr_expect_eq(cfg->client_idle_timeout, 3600 * USEC_PER_SEC);
	cr_expect_eq(cfg->query_wait_timeout, 250000);
	cr_expect_eq(cfg->shutdown_timeout, 10 * USEC_PER_SEC);
	cr_expect_str_eq(cfg->server_reset_query, "RESET ALL");
	cr_expect_eq(cfg->log_level, LOG_DEBUG);
	cr_expect_not(cfg->route_reads);
	cr_expect_eq(cfg->load_balance, BAL_LEAST_CONN);
	cr_expect_str_eq(cfg->read_only_functions, "now_utc, geo.\"Distance\",\"Has,Comma\"");
	cr_assert_eq(cfg->nread_only_funcs, 3);
	cr_expect_str_eq(cfg->read_only_funcs[0].schema, "");
	cr_expect_str_eq(cfg->read_only_funcs[0].name, "now_utc");
	cr_expect_str_eq(cfg->read_only_funcs[1].schema, "geo");
	cr_expect_str_eq(cfg->read_only_funcs[1].name, "Distance");
	cr_expect_str_eq(cfg->read_only_funcs[2].schema, "");
	cr_expect_str_eq(cfg->read_only_funcs[2].name, "Has,Comma");
	cr_expect_str_eq(cfg->write_functions, "public.Bump_Counter , audit.log");
	cr_assert_eq(cfg->nwrite_funcs, 2);
	cr_expect_str_eq(cfg->write_funcs[0].schema, "public");
	cr_expect_str_eq(cfg->write_funcs[0].name, "bump_counter");
	cr_expect_str_eq(cfg->write_funcs[1].schema, "audit");
	cr_expect_str_eq(cfg->write_funcs[1].name, "log");
	cr_expect_str_eq(cfg->monitor_user, "pgrelay_mon");
	cr_expect_str_eq(cfg->monitor_password, "mon secret");
	cr_expect_eq(cfg->function_cache_ttl, 60 * USEC_PER_SEC);
	cr_expect_eq(cfg->replica_retry_interval, 500000);
	cr_expect_eq(cfg->monitor_interval, 500000);
	cr_expect_eq(cfg->monitor_timeout, 2 * USEC_PER_SEC);
	cr_expect_eq(cfg->monitor_hysteresis, 5);
	cr_expect_str_eq(cfg->monitor_dbname, "mon_db");
	cr_expect_eq(cfg->max_lag_bytes, UINT64_C(1) << 30);
	cr_expect_eq(cfg->max_lag_time, 2500000);
	cr_expect_eq(cfg->no_fresh_replica, NOFRESH_WAIT);
	cr_expect_eq(cfg->no_fresh_replica_timeout, 250000);
	cr_expect_eq(cfg->read_your_writes, RYW_GLOBAL);
	cr_expect_eq(cfg->read_your_writes_wait, 100000);
	cr_expect_not(cfg->failover);
	cr_expect_eq(cfg->failover_after, 5);
	cr_expect_eq(cfg->failover_timeout, 12500000);
	cr_expect_eq(cfg->max_failover_lag, UINT64_C(64) << 20);
	cr_expect_eq(cfg->write_wait_timeout, 0);
	cr_expect_str_eq(cfg->promote_user, "pgrelay_admin");
	cr_expect_str_eq(cfg->promote_password, "admin secret");
	cr_expect_str_eq(cfg->promote_command, "/usr/local/bin/promote %n %h:%p 100%%");
	cr_expect_str_eq(cfg->follow_command, "follow.sh %n %h %p %N %H %P");
	cr_expect_str_eq(cfg->state_file, "pgrelay.state", "no directory in the name test.ini");
	cr_expect_not(cfg->fence_old_master);
	cr_expect_str_eq(cfg->replication_user, "replicator");
	cr_expect_str_eq(cfg->replication_password, "repl pw");

	cr_assert_eq(cfg->nnodes, 3);
	cr_expect_str_eq(cfg->nodes[0].name, "primary");
	cr_expect_str_eq(cfg->nodes[0].host, "10.1.0.1");
	cr_expect_eq(cfg->nodes[0].port, 5432);
	cr_expect_eq(cfg->nodes[0].role, ROLE_MASTER);
	cr_expect_eq(cfg->nodes[0].line, 51);
	cr_expect_eq(cfg->nodes[0].weight, 2, "a master with a weight serves reads");
	cr_expect_eq(cfg->nodes[0].priority, 100);
	cr_expect(cfg->nodes[0].never_promote, "promote = never is allowed on the master");
	cr_expect_str_eq(cfg->nodes[0].replication_slot, "primary_slot");
	cr_expect_str_eq(cfg->nodes[1].name, "replica-1");
	cr_expect_str_eq(cfg->nodes[1].host, "db-replica.example");
	cr_expect_eq(cfg->nodes[1].port, 5433);
	cr_expect_eq(cfg->nodes[1].role, ROLE_REPLICA);
	cr_expect_eq(cfg->nodes[1].line, 58);
	cr_expect_eq(cfg->nodes[1].weight, 0);
	cr_expect_eq(cfg->nodes[1].priority, 250);
	cr_expect_not(cfg->nodes[1].never_promote);
	cr_expect_str_eq(cfg->nodes[1].replication_slot, "replica_1");
	cr_expect_str_eq(cfg->nodes[2].name, "r_2");
	cr_expect_str_eq(cfg->nodes[2].host, "::1");
	cr_expect_eq(cfg->nodes[2].port, 5434);
	cr_expect_eq(cfg->nodes[2].role, ROLE_REPLICA, "role defaults to replica");
	cr_expect_eq(cfg->nodes[2].weight, 1, "a replica's weight defaults to 1");
	cr_expect(cfg->nodes[0].weight_set && cfg->nodes[1].weight_set && !cfg->nodes[2].weight_set,
		  "weight_set tells a configured weight from the role default");
	cr_expect_eq(cfg->nodes[2].priority, 0);
	cr_expect_not(cfg->nodes[2].never_promote, "promote defaults to auto");
	cr_expect_str_eq(cfg->nodes[2].replication_slot, "", "no slot by default");
	cr_expect_eq(config_master(cfg), &cfg->nodes[0]);

	cr_assert_eq(cfg->ndatabases, 4);
	db = config_find_database(cfg, "app");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->name, "app");
	cr_expect_str_eq(db->dbname, "app_prod");
	cr_expect_str_eq(db->user, "app");
	cr_expect_str_eq(db->password, "s3cret");
	cr_expect_eq(db->pool_size, 5);
	cr_expect_eq(db->read_your_writes, -1, "not set");
	db = config_find_database(cfg, "quoted");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->dbname, "");
	cr_expect_str_eq(db->user, "my user");
	cr_expect_str_eq(db->password, "it's a secret");
	cr_expect_eq(db->pool_size, 0);
	cr_expect_eq(db->read_your_writes, RYW_OFF);
	db = config_find_database(cfg, "empty");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->name, "empty");
	cr_expect_str_eq(db->dbname, "");
	cr_expect_str_eq(db->user, "");
	cr_expect_str_eq(db->password, "");
	cr_expect_eq(db->pool_size, 0);
	cr_expect_eq(db->read_your_writes, -1);
	db = config_find_database(cfg, "other");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->name, "*");
	cr_expect_str_eq(db->dbname, "fallback");
	cr_expect_eq(db->read_your_writes, RYW_SESSION);

	cr_assert_eq(cfg->nusers, 2);
	cr_expect_str_eq(cfg->users[0].name, "alice");
	cr_expect_eq(cfg->users[0].read_your_writes, RYW_OFF);
	cr_expect_str_eq(cfg->users[1].name, "bob");
	cr_expect_eq(cfg->users[1].read_your_writes, -1);
	cr_expect_eq(config_find_user(cfg, "alice"), &cfg->users[0]);
	cr_expect_eq(config_find_user(cfg, "bob"), &cfg->users[1]);
	cr_expect_null(config_find_user(cfg, "Alice"));
	cr_expect_null(config_find_user(cfg, "carol"));
	config_free(cfg);
}

Test(config, full_file_key_at)
{
	static const char *const expect[][2] = {
	    {"listen_addr", "127.0.0.1,::1,10.0.0.1"},
	    {"listen_port", "7432"},
	    {"auth_type", "md5"},
	    {"auth_file", "/etc/pgrelay/userlist.txt"},
	    {"pool_size", "7"},
	    {"max_client_conn", "250"},
	    {"max_message_size", "16777216"},
	    {"connect_timeout", "2.5"},
	    {"client_login_timeout", "15"},
	    {"server_idle_timeout", "0"},
	    {"client_idle_timeout", "3600"},
	    {"query_wait_timeout", "0.25"},
	    {"shutdown_timeout", "10"},
	    {"server_reset_query", "RESET ALL"},
	    {"log_level", "debug"},
	    {"route_reads", "off"},
	    {"load_balance", "least_conn"},
	    {"read_only_functions", "now_utc, geo.\"Distance\",\"Has,Comma\""},
	    {"write_functions", "public.Bump_Counter , audit.log"},
	    {"monitor_user", "pgrelay_mon"},
	    {"monitor_password", "mon secret"},
	    {"function_cache_ttl", "60"},
	    {"replica_retry_interval", "0.5"},
	    {"monitor_interval", "0.5"},
	    {"monitor_timeout", "2"},
	    {"monitor_hysteresis", "5"},
	    {"monitor_dbname", "mon_db"},
	    {"max_lag_bytes", "1073741824"},
	    {"max_lag_time", "2.5"},
	    {"no_fresh_replica", "wait"},
	    {"no_fresh_replica_timeout", "0.25"},
	    {"read_your_writes", "global"},
	    {"read_your_writes_wait", "0.1"},
	    {"failover", "off"},
	    {"failover_after", "5"},
	    {"failover_timeout", "12.5"},
	    {"max_failover_lag", "67108864"},
	    {"write_wait_timeout", "0"},
	    {"promote_user", "pgrelay_admin"},
	    {"promote_password", "admin secret"},
	    {"promote_command", "/usr/local/bin/promote %n %h:%p 100%%"},
	    {"follow_command", "follow.sh %n %h %p %N %H %P"},
	    {"state_file", "pgrelay.state"},
	    {"fence_old_master", "off"},
	    {"replication_user", "replicator"},
	    {"replication_password", "repl pw"},
	    {"admin_users", ""},
	    {"stats_users", ""},
	    {"metrics_addr", "127.0.0.1"},
	    {"metrics_port", "0"},
	};
	Config *cfg = expect_load("full", full_text);
	const char *sec, *name;
	char value[256];
	size_t i;

	for (i = 0; config_key_at(cfg, i, &sec, &name, value, sizeof(value)); i++) {
		cr_assert_lt(i, ARRAY_SIZE(expect), "more keys than expected: %s", name);
		cr_expect_str_eq(sec, "pgrelay");
		cr_expect_str_eq(name, expect[i][0]);
		cr_expect_str_eq(value, expect[i][1], "key %s", name);
	}
	cr_expect_eq(i, ARRAY_SIZE(expect));
	cr_expect_not(config_key_at(cfg, 1000, &sec, &name, value, sizeof(value)));
	config_free(cfg);
}

/* Every value config_key_at() prints loads back to the same configuration. */
Test(config, key_at_round_trip)
{
	Config *cfg = expect_load("full", full_text), *again;
	char text[8192], value[256];
	const char *sec, *name;
	size_t len = 0;

	len += (size_t)snprintf(text + len, sizeof(text) - len, "[pgrelay]\n");
	for (size_t i = 0; config_key_at(cfg, i, &sec, &name, value, sizeof(value)); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s = %s\n", name, value);
	snprintf(text + len, sizeof(text) - len, NODE0);
	again = expect_load("round trip", text);
	for (size_t i = 0; config_key_at(cfg, i, &sec, &name, value, sizeof(value)); i++) {
		char v2[256];

		key_value(again, name, v2, sizeof(v2));
		cr_expect_str_eq(v2, value, "key %s", name);
	}
	config_free(again);
	config_free(cfg);
}

/* ---- defaults ---------------------------------------------------------------- */

Test(config, defaults)
{
	static const char *const expect[][2] = {
	    {"listen_addr", "127.0.0.1"},
	    {"listen_port", "6432"},
	    {"auth_type", "scram-sha-256"},
	    {"auth_file", "users.txt"},
	    {"pool_size", "20"},
	    {"max_client_conn", "1000"},
	    {"max_message_size", "67108864"},
	    {"connect_timeout", "5"},
	    {"client_login_timeout", "60"},
	    {"server_idle_timeout", "600"},
	    {"client_idle_timeout", "0"},
	    {"query_wait_timeout", "120"},
	    {"shutdown_timeout", "30"},
	    {"server_reset_query", "DISCARD ALL"},
	    {"log_level", "info"},
	    {"route_reads", "on"},
	    {"load_balance", "round_robin"},
	    {"read_only_functions", ""},
	    {"write_functions", ""},
	    {"monitor_user", ""},
	    {"monitor_password", ""},
	    {"function_cache_ttl", "300"},
	    {"replica_retry_interval", "5"},
	    {"monitor_interval", "0.2"},
	    {"monitor_timeout", "1"},
	    {"monitor_hysteresis", "3"},
	    {"monitor_dbname", "postgres"},
	    {"max_lag_bytes", "16777216"},
	    {"max_lag_time", "1"},
	    {"no_fresh_replica", "master"},
	    {"no_fresh_replica_timeout", "1"},
	    {"read_your_writes", "session"},
	    {"read_your_writes_wait", "0.05"},
	    {"failover", "on"},
	    {"failover_after", "3"},
	    {"failover_timeout", "30"},
	    {"max_failover_lag", "16777216"},
	    {"write_wait_timeout", "30"},
	    {"promote_user", ""},
	    {"promote_password", ""},
	    {"promote_command", ""},
	    {"follow_command", ""},
	    {"state_file", ""},
	    {"fence_old_master", "on"},
	    {"replication_user", ""},
	    {"replication_password", ""},
	    {"admin_users", ""},
	    {"stats_users", ""},
	    {"metrics_addr", "127.0.0.1"},
	    {"metrics_port", "0"},
	};
	Config *cfg = expect_load("defaults", HEAD NODE0);
	char value[256];

	cr_expect_eq(cfg->nlisten, 1);
	cr_expect_str_eq(cfg->listen_addr[0], "127.0.0.1");
	cr_expect_eq(cfg->listen_port, 6432);
	cr_expect_eq(cfg->auth_type, AUTH_SCRAM);
	cr_expect_eq(cfg->pool_size, 20);
	cr_expect_eq(cfg->max_client_conn, 1000);
	cr_expect_eq(cfg->max_message_size, 64u * 1024 * 1024);
	cr_expect_eq(cfg->connect_timeout, 5 * USEC_PER_SEC);
	cr_expect_eq(cfg->client_login_timeout, 60 * USEC_PER_SEC);
	cr_expect_eq(cfg->server_idle_timeout, 600 * USEC_PER_SEC);
	cr_expect_eq(cfg->client_idle_timeout, 0);
	cr_expect_eq(cfg->query_wait_timeout, 120 * USEC_PER_SEC);
	cr_expect_eq(cfg->shutdown_timeout, 30 * USEC_PER_SEC);
	cr_expect_str_eq(cfg->server_reset_query, "DISCARD ALL");
	cr_expect_eq(cfg->log_level, LOG_INFO);
	cr_expect(cfg->route_reads);
	cr_expect_eq(cfg->load_balance, BAL_ROUND_ROBIN);
	cr_expect_str_eq(cfg->read_only_functions, "");
	cr_expect_eq(cfg->nread_only_funcs, 0);
	cr_expect_str_eq(cfg->write_functions, "");
	cr_expect_eq(cfg->nwrite_funcs, 0);
	cr_expect_str_eq(cfg->monitor_user, "");
	cr_expect_str_eq(cfg->monitor_password, "");
	cr_expect_eq(cfg->function_cache_ttl, 300 * USEC_PER_SEC);
	cr_expect_eq(cfg->replica_retry_interval, 5 * USEC_PER_SEC);
	cr_expect_eq(cfg->monitor_interval, 200000);
	cr_expect_eq(cfg->monitor_timeout, 1 * USEC_PER_SEC);
	cr_expect_eq(cfg->monitor_hysteresis, 3);
	cr_expect_str_eq(cfg->monitor_dbname, "postgres");
	cr_expect_eq(cfg->max_lag_bytes, UINT64_C(16) * 1024 * 1024);
	cr_expect_eq(cfg->max_lag_time, 1 * USEC_PER_SEC);
	cr_expect_eq(cfg->no_fresh_replica, NOFRESH_MASTER);
	cr_expect_eq(cfg->no_fresh_replica_timeout, 1 * USEC_PER_SEC);
	cr_expect_eq(cfg->read_your_writes, RYW_SESSION);
	cr_expect_eq(cfg->read_your_writes_wait, 50000);
	cr_expect(cfg->failover);
	cr_expect_eq(cfg->failover_after, 3);
	cr_expect_eq(cfg->failover_timeout, 30 * USEC_PER_SEC);
	cr_expect_eq(cfg->max_failover_lag, UINT64_C(16) * 1024 * 1024);
	cr_expect_eq(cfg->write_wait_timeout, 30 * USEC_PER_SEC);
	cr_expect_str_eq(cfg->promote_user, "");
	cr_expect_str_eq(cfg->promote_password, "");
	cr_expect_str_eq(cfg->promote_command, "");
	cr_expect_str_eq(cfg->follow_command, "");
	cr_expect_str_eq(cfg->state_file, "");
	cr_expect(cfg->fence_old_master);
	cr_expect_str_eq(cfg->replication_user, "");
	cr_expect_str_eq(cfg->replication_password, "");
	cr_expect_eq(cfg->nodes[0].weight, 0, "the master serves no reads by default");
	cr_expect_eq(cfg->nodes[0].priority, 100);
	cr_expect_not(cfg->nodes[0].never_promote);
	cr_expect_str_eq(cfg->nodes[0].replication_slot, "");
	cr_expect_eq(cfg->ndatabases, 0);
	cr_expect_null(config_find_database(cfg, "app"));
	cr_expect_eq(cfg->nusers, 0);
	cr_expect_null(config_find_user(cfg, "app"));
	cr_expect_eq(config_ryw_mode(cfg, "app", "alice"), RYW_SESSION);

	for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
		key_value(cfg, expect[i][0], value, sizeof(value));
		cr_expect_str_eq(value, expect[i][1], "key %s", expect[i][0]);
	}
	config_free(cfg);
}

/* With cfg == NULL, config_key_at() reports the built-in default text. */
Test(config, key_at_without_config)
{
	const char *sec, *name;
	char value[64];
	bool found = false;

	for (size_t i = 0; config_key_at(NULL, i, &sec, &name, value, sizeof(value)); i++) {
		if (strcmp(name, "max_message_size") == 0) {
			cr_expect_str_eq(value, "64MB");
			found = true;
		}
		if (strcmp(name, "max_lag_bytes") == 0)
			cr_expect_str_eq(value, "16MB");
		if (strcmp(name, "read_your_writes_wait") == 0)
			cr_expect_str_eq(value, "0.05");
		if (strcmp(name, "max_failover_lag") == 0)
			cr_expect_str_eq(value, "16MB");
		if (strcmp(name, "failover_timeout") == 0)
			cr_expect_str_eq(value, "30");
	}
	cr_expect(found);
}

/* The defaults in proxy.ini.example are the built-in ones. */
Test(config, example_file_matches_defaults)
{
	FILE *f = fopen("proxy.ini.example", "r");
	char line[512], value[256];
	const char *sec, *name;
	size_t checked = 0;

	if (!f)
		cr_skip_test("run from the repository root to check proxy.ini.example");
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		char *k = line, *v, *end;

		if (line[0] == '[' || line[0] == ';' || line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		while (*v == ' ')
			v++;
		for (end = eq; end > k && end[-1] == ' ';)
			*--end = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		for (size_t i = 0; config_key_at(NULL, i, &sec, &name, value, sizeof(value)); i++) {
			if (strcmp(name, k) == 0) {
				cr_expect_str_eq(v, value, "default of %s", k);
				checked++;
			}
		}
	}
	fclose(f);
	{
		size_t nkeys = 0;
		while (config_key_at(NULL, nkeys, NULL, NULL, NULL, 0))
			nkeys++;
		cr_expect_eq(checked, nkeys, "every [pgrelay] key is in proxy.ini.example (%zu of %zu)",
			     checked, nkeys);
	}
}

/* ---- good and bad values for every key type ---------------------------------- */

typedef struct ValueCase {
	const char *key;
	const char *value;
	const char *expect; /* config_key_at() text, or the error after "key 'KEY': " */
} ValueCase;

static const ValueCase good_values[] = {
    {"listen_addr", "*", "0.0.0.0"},
    {"listen_addr", "::", "::"},
    {"listen_addr", "127.0.0.1,::1", "127.0.0.1,::1"},
    {"listen_addr", " 10.0.0.1 ,  10.0.0.2 ", "10.0.0.1,10.0.0.2"},
    {"listen_addr", "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8",
     "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8"},
    {"listen_port", "1", "1"},
    {"listen_port", "65535", "65535"},
    {"auth_type", "trust", "trust"},
    {"auth_type", "MD5", "md5"},
    {"auth_type", "scram-sha-256", "scram-sha-256"},
    {"pool_size", "10000", "10000"},
    {"max_message_size", "1024", "1024"},
    {"max_message_size", "1kB", "1024"},
    {"max_message_size", "8 kb", "8192"},
    {"max_message_size", "1GB", "1073741824"},
    {"max_message_size", "100000", "100000"},
    {"connect_timeout", "0.001", "0.001"},
    {"connect_timeout", ".5", "0.5"},
    {"connect_timeout", "3.", "3"},
    {"connect_timeout", "1.500000000", "1.5"},
    {"connect_timeout", "600", "600"},
    {"client_idle_timeout", "0.000001", "0.000001"},
    {"client_idle_timeout", "2592000", "2592000"},
    {"shutdown_timeout", "0", "0"},
    {"server_reset_query", "", ""},
    {"server_reset_query", "DISCARD ALL; SET x = 1", "DISCARD ALL; SET x = 1"},
    {"server_reset_query", "SELECT 1 ; a comment", "SELECT 1"},
    {"log_level", "error", "error"},
    {"log_level", "WARNING", "warning"},
    {"log_level", "debug", "debug"},
    {"route_reads", "on", "on"},
    {"route_reads", "OFF", "off"},
    {"route_reads", "true", "on"},
    {"route_reads", "False", "off"},
    {"route_reads", "YES", "on"},
    {"route_reads", "no", "off"},
    {"route_reads", "1", "on"},
    {"route_reads", "0", "off"},
    {"load_balance", "round_robin", "round_robin"},
    {"load_balance", "WEIGHTED", "weighted"},
    {"load_balance", "least_conn", "least_conn"},
    {"load_balance", "Least_Latency", "least_latency"},
    {"load_balance", "ip_hash", "ip_hash"},
    {"read_only_functions", "", ""},
    {"read_only_functions", "f", "f"},
    {"read_only_functions", "F ,  s.G,\"H I\"", "F ,  s.G,\"H I\""},
    {"write_functions", "\"a;b\", x$1", "\"a;b\", x$1"},
    {"monitor_user", "mon", "mon"},
    {"monitor_user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"monitor_password", "s3cret with blanks", "s3cret with blanks"},
    {"function_cache_ttl", "1", "1"},
    {"function_cache_ttl", "1.5", "1.5"},
    {"function_cache_ttl", "86400", "86400"},
    {"replica_retry_interval", "0.1", "0.1"},
    {"replica_retry_interval", "3600", "3600"},
    {"replica_retry_interval", ".25", "0.25"},
    /* the monitor, replica lag, read-your-writes */
    {"monitor_interval", "0.01", "0.01"},
    {"monitor_interval", ".25", "0.25"},
    {"monitor_interval", "60", "60"},
    {"monitor_timeout", "0.01", "0.01"},
    {"monitor_timeout", "600", "600"},
    {"monitor_hysteresis", "1", "1"},
    {"monitor_hysteresis", "100", "100"},
    {"monitor_dbname", "app", "app"},
    {"monitor_dbname", "my db", "my db"},
    {"monitor_dbname", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"max_lag_bytes", "0", "0"},
    {"max_lag_bytes", "100", "100"},
    {"max_lag_bytes", "512 kB", "524288"},
    {"max_lag_bytes", "64mb", "67108864"},
    {"max_lag_bytes", "4GB", "4294967296"},
    {"max_lag_bytes", "1TB", "1099511627776"},
    {"max_lag_bytes", "1tb", "1099511627776"},
    {"max_lag_bytes", "1099511627776", "1099511627776"},
    {"max_lag_time", "0", "0"},
    {"max_lag_time", "0.000001", "0.000001"},
    {"max_lag_time", "86400", "86400"},
    {"no_fresh_replica", "master", "master"},
    {"no_fresh_replica", "WAIT", "wait"},
    {"no_fresh_replica", "Error", "error"},
    {"no_fresh_replica_timeout", "0.001", "0.001"},
    {"no_fresh_replica_timeout", "3600", "3600"},
    {"read_your_writes", "off", "off"},
    {"read_your_writes", "Session", "session"},
    {"read_your_writes", "GLOBAL", "global"},
    {"read_your_writes_wait", "0", "0"},
    {"read_your_writes_wait", "0.000001", "0.000001"},
    {"read_your_writes_wait", "60", "60"},
    /* failover */
    {"failover", "off", "off"},
    {"failover", "Yes", "on"},
    {"failover", "0", "off"},
    {"failover_after", "1", "1"},
    {"failover_after", "100", "100"},
    {"failover_timeout", "1", "1"},
    {"failover_timeout", "2.5", "2.5"},
    {"failover_timeout", "3600", "3600"},
    {"max_failover_lag", "0", "0"},
    {"max_failover_lag", "512 kB", "524288"},
    {"max_failover_lag", "1tb", "1099511627776"},
    {"max_failover_lag", "1099511627776", "1099511627776"},
    {"write_wait_timeout", "0", "0"},
    {"write_wait_timeout", "0.000001", "0.000001"},
    {"write_wait_timeout", "3600", "3600"},
    {"promote_user", "admin", "admin"},
    {"promote_user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"promote_password", "pass word", "pass word"},
    {"promote_command", "", ""},
    {"promote_command", "pg_ctl promote -D /srv/%n", "pg_ctl promote -D /srv/%n"},
    {"promote_command", "ssh %h promote --port=%p", "ssh %h promote --port=%p"},
    {"promote_command", "echo 100%% %n%h%p%%", "echo 100%% %n%h%p%%"},
    {"promote_command", "no placeholders at all", "no placeholders at all"},
    {"follow_command", "", ""},
    {"follow_command", "follow %n %h %p %N %H %P", "follow %n %h %p %N %H %P"},
    {"follow_command", "%%N %%%N", "%%N %%%N"},
    {"state_file", "/var/lib/pgrelay/state", "/var/lib/pgrelay/state"},
    {"state_file", "pgrelay.state", "pgrelay.state"},
    {"state_file", "", ""},
    {"fence_old_master", "off", "off"},
    {"fence_old_master", "TRUE", "on"},
    {"replication_user", "replicator", "replicator"},
    {"replication_password", "it's secret", "it's secret"},
    {"admin_users", "ops, alice", "ops, alice"},
    {"stats_users", "grafana", "grafana"},
    {"metrics_addr", "0.0.0.0", "0.0.0.0"},
    {"metrics_port", "9187", "9187"},
    {"metrics_port", "0", "0"},
};

Test(config, good_values)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_values); i++) {
		const ValueCase *c = &good_values[i];
		char text[1024], value[256];
		Config *cfg;

		snprintf(text, sizeof(text), HEAD "%s = %s\n" NODE0, c->key, c->value);
		cfg = load(text);
		cr_expect_not_null(cfg, "%s = %s: %s", c->key, c->value, errbuf);
		if (!cfg)
			continue;
		key_value(cfg, c->key, value, sizeof(value));
		cr_expect_str_eq(value, c->expect, "%s = %s", c->key, c->value);
		config_free(cfg);
	}
}

#define E_PORT "expected an integer from 1 to 65535, got "
#define E_SIZE "expected a size from 1kB to 1GB (bytes, or with a kB/MB/GB/TB suffix), got "
#define E_CONN "expected a duration in seconds from 0.001 to 600, got "
#define E_IDLE "expected a duration in seconds from 0 to 2592000, got "
#define E_ADDR "expected numeric IPv4/IPv6 addresses or '*', got "
#define E_LIST "expected a comma-separated list of numeric IPv4/IPv6 addresses or '*', got "
#define E_LEVEL "expected error, warning, info or debug, got "
#define E_BOOL "expected on or off (or true/false, yes/no, 1/0), got "
#define E_BAL "expected round_robin, weighted, least_conn, least_latency or ip_hash, got "
#define E_TTL "expected a duration in seconds from 1 to 86400, got "
#define E_RETRY "expected a duration in seconds from 0.1 to 3600, got "
#define E_MONINT "expected a duration in seconds from 0.01 to 60, got "
#define E_MONTO "expected a duration in seconds from 0.01 to 600, got "
#define E_HYST "expected an integer from 1 to 100, got "
#define E_LAGB "expected a size from 0 to 1TB (bytes, or with a kB/MB/GB/TB suffix), got "
#define E_LAGT "expected a duration in seconds from 0 to 86400, got "
#define E_NOFRESH "expected master, wait or error, got "
#define E_NFTO "expected a duration in seconds from 0.001 to 3600, got "
#define E_RYW "expected off, session or global, got "
#define E_RYWW "expected a duration in seconds from 0 to 60, got "
#define E_FOTO "expected a duration in seconds from 1 to 3600, got "
#define E_WWT "expected a duration in seconds from 0 to 3600, got "
#define E_PCMD "expected the placeholders %n, %h or %p (or %% for a literal %), got "
#define E_FCMD "expected the placeholders %n, %h, %p, %N, %H or %P (or %% for a literal %), got "
#define E_FEMPTY "expected a comma-separated list of function names, got an empty entry in "
#define E_FBAD                                                                                     \
	"': expected name or schema.name, each of letters, digits, _ and $ (not starting with a "  \
	"digit or $) or double-quoted"
#define NAME64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const ValueCase bad_values[] = {
    /* int */
    {"listen_port", "abc", E_PORT "'abc'"},
    {"listen_port", "", E_PORT "''"},
    {"listen_port", "0", E_PORT "'0'"},
    {"listen_port", "65536", E_PORT "'65536'"},
    {"listen_port", "-1", E_PORT "'-1'"},
    {"listen_port", "+5", E_PORT "'+5'"},
    {"listen_port", "5 6", E_PORT "'5 6'"},
    {"listen_port", "0x10", E_PORT "'0x10'"},
    {"listen_port", "99999999999999999999999", E_PORT "'99999999999999999999999'"},
    {"pool_size", "0", "expected an integer from 1 to 10000, got '0'"},
    {"pool_size", "1.5", "expected an integer from 1 to 10000, got '1.5'"},
    {"max_client_conn", "1000001", "expected an integer from 1 to 1000000, got '1000001'"},
    /* size */
    {"max_message_size", "abc", E_SIZE "'abc'"},
    {"max_message_size", "", E_SIZE "''"},
    {"max_message_size", "1023", E_SIZE "'1023'"},
    {"max_message_size", "2GB", E_SIZE "'2GB'"},
    {"max_message_size", "16TB", E_SIZE "'16TB'"},
    {"max_message_size", "16 M", E_SIZE "'16 M'"},
    {"max_message_size", "-1kB", E_SIZE "'-1kB'"},
    {"max_message_size", "1.5MB", E_SIZE "'1.5MB'"},
    {"max_message_size", "99999999999999999999GB", E_SIZE "'99999999999999999999GB'"},
    {"max_message_size", "9999999999GB", E_SIZE "'9999999999GB'"},
    /* duration */
    {"connect_timeout", "abc", E_CONN "'abc'"},
    {"connect_timeout", "", E_CONN "''"},
    {"connect_timeout", ".", E_CONN "'.'"},
    {"connect_timeout", "0", E_CONN "'0'"},
    {"connect_timeout", "0.0001", E_CONN "'0.0001'"},
    {"connect_timeout", "601", E_CONN "'601'"},
    {"connect_timeout", "-1", E_CONN "'-1'"},
    {"connect_timeout", "5s", E_CONN "'5s'"},
    {"connect_timeout", "1e3", E_CONN "'1e3'"},
    {"connect_timeout", "1.2.3", E_CONN "'1.2.3'"},
    {"client_idle_timeout", "0.0000001", E_IDLE "'0.0000001'"},
    {"client_idle_timeout", "99999999999999999999", E_IDLE "'99999999999999999999'"},
    {"client_login_timeout", "3601",
     "expected a duration in seconds from 0.001 to 3600, "
     "got '3601'"},
    {"query_wait_timeout", "86401",
     "expected a duration in seconds from 0 to 86400, "
     "got '86401'"},
    /* enum */
    {"auth_type", "plain", "expected scram-sha-256, md5 or trust, got 'plain'"},
    {"auth_type", "", "expected scram-sha-256, md5 or trust, got ''"},
    {"auth_type", "scram", "expected scram-sha-256, md5 or trust, got 'scram'"},
    /* log level */
    {"log_level", "loud", E_LEVEL "'loud'"},
    {"log_level", "", E_LEVEL "''"},
    /* address list */
    {"listen_addr", "", E_LIST "''"},
    {"listen_addr", "localhost", E_ADDR "'localhost'"},
    {"listen_addr", "127.0.0.1,", E_LIST "'127.0.0.1,'"},
    {"listen_addr", ",127.0.0.1", E_LIST "',127.0.0.1'"},
    {"listen_addr", "127.0.0.1,,::1", E_LIST "'127.0.0.1,,::1'"},
    {"listen_addr", "127.0.0.1 ::1", E_ADDR "'127.0.0.1 ::1'"},
    {"listen_addr", "256.0.0.1", E_ADDR "'256.0.0.1'"},
    {"listen_addr", "[::1]", E_ADDR "'[::1]'"},
    {"listen_addr", "**", E_ADDR "'**'"},
    {"listen_addr", "127.0.0.1,127.0.0.1", "address '127.0.0.1' is listed twice"},
    {"listen_addr", "*,0.0.0.0", "address '0.0.0.0' is listed twice"},
    {"listen_addr", "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
     "expected at most 8 addresses"},
    {"listen_addr",
     "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff:0000",
     E_ADDR "'1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff:0000'"},
    /* bool */
    {"route_reads", "", E_BOOL "''"},
    {"route_reads", "2", E_BOOL "'2'"},
    {"route_reads", "onn", E_BOOL "'onn'"},
    {"route_reads", "o", E_BOOL "'o'"},
    {"route_reads", "enabled", E_BOOL "'enabled'"},
    {"route_reads", "on off", E_BOOL "'on off'"},
    /* load_balance */
    {"load_balance", "random", E_BAL "'random'"},
    {"load_balance", "", E_BAL "''"},
    {"load_balance", "round-robin", E_BAL "'round-robin'"},
    /* durations */
    {"function_cache_ttl", "0", E_TTL "'0'"},
    {"function_cache_ttl", "0.999999", E_TTL "'0.999999'"},
    {"function_cache_ttl", "86401", E_TTL "'86401'"},
    {"function_cache_ttl", "", E_TTL "''"},
    {"function_cache_ttl", "5m", E_TTL "'5m'"},
    {"replica_retry_interval", "0", E_RETRY "'0'"},
    {"replica_retry_interval", "0.099999", E_RETRY "'0.099999'"},
    {"replica_retry_interval", "3600.000001", E_RETRY "'3600.000001'"},
    {"replica_retry_interval", "-5", E_RETRY "'-5'"},
    /* strings */
    {"monitor_user", NAME64, "expected at most 63 characters, got 64"},
    /* function lists */
    {"read_only_functions", "f,", E_FEMPTY "'f,'"},
    {"read_only_functions", ",f", E_FEMPTY "',f'"},
    {"read_only_functions", "f, ,g", E_FEMPTY "'f, ,g'"},
    {"write_functions", "f,,g", E_FEMPTY "'f,,g'"},
    {"read_only_functions", "1f", "bad function name '1f" E_FBAD},
    {"read_only_functions", "$f", "bad function name '$f" E_FBAD},
    {"read_only_functions", "ok, f g", "bad function name 'f g" E_FBAD},
    {"read_only_functions", "f()", "bad function name 'f()" E_FBAD},
    {"read_only_functions", "f-g", "bad function name 'f-g" E_FBAD},
    {"read_only_functions", "a.b.c", "bad function name 'a.b.c" E_FBAD},
    {"read_only_functions", ".f", "bad function name '.f" E_FBAD},
    {"read_only_functions", "s.", "bad function name 's." E_FBAD},
    {"read_only_functions", "s .f", "bad function name 's .f" E_FBAD},
    {"read_only_functions", "s. f", "bad function name 's. f" E_FBAD},
    {"read_only_functions", "\"a\"b", "bad function name '\"a\"b" E_FBAD},
    {"read_only_functions", "s.1f, g", "bad function name 's.1f" E_FBAD},
    {"write_functions", "x, 'f'", "bad function name ''f'" E_FBAD},
    {"read_only_functions", "\"f", "bad function name '\"f': missing closing quote"},
    {"read_only_functions", "\"f, g", "bad function name '\"f, g': missing closing quote"},
    {"read_only_functions", "s.\"f\"\"", "bad function name 's.\"f\"\"': missing closing quote"},
    {"read_only_functions", "\"\"",
     "bad function name '\"\"': a quoted identifier cannot be empty"},
    {"read_only_functions", "s.\"\"",
     "bad function name 's.\"\"': a quoted identifier cannot be empty"},
    {"read_only_functions", NAME64,
     "bad function name '" NAME64 "': an identifier is at most 63 bytes"},
    {"read_only_functions", "\"" NAME64 "\"",
     "bad function name '\"" NAME64 "\"': an identifier is at most 63 bytes"},
    {"read_only_functions", NAME64 ".f",
     "bad function name '" NAME64 ".f': an identifier is at most 63 bytes"},
    {"read_only_functions", "f, g, F", "function 'F' is listed twice"},
    {"read_only_functions", "s.f, S.F", "function 'S.F' is listed twice"},
    {"read_only_functions", "\"f\", f", "function 'f' is listed twice"},
    {"write_functions", "\"s\".\"f\", s.f", "function 's.f' is listed twice"},
    /* the monitor */
    {"monitor_interval", "0", E_MONINT "'0'"},
    {"monitor_interval", "0.009999", E_MONINT "'0.009999'"},
    {"monitor_interval", "60.000001", E_MONINT "'60.000001'"},
    {"monitor_interval", "", E_MONINT "''"},
    {"monitor_interval", "-1", E_MONINT "'-1'"},
    {"monitor_interval", "200ms", E_MONINT "'200ms'"},
    {"monitor_timeout", "0.001", E_MONTO "'0.001'"},
    {"monitor_timeout", "601", E_MONTO "'601'"},
    {"monitor_timeout", "1s", E_MONTO "'1s'"},
    {"monitor_hysteresis", "0", E_HYST "'0'"},
    {"monitor_hysteresis", "101", E_HYST "'101'"},
    {"monitor_hysteresis", "-3", E_HYST "'-3'"},
    {"monitor_hysteresis", "1.5", E_HYST "'1.5'"},
    {"monitor_hysteresis", "", E_HYST "''"},
    {"monitor_dbname", "", "expected 1 to 63 characters, got 0"},
    {"monitor_dbname", NAME64, "expected 1 to 63 characters, got 64"},
    /* replica lag */
    {"max_lag_bytes", "", E_LAGB "''"},
    {"max_lag_bytes", "-1", E_LAGB "'-1'"},
    {"max_lag_bytes", "1.5MB", E_LAGB "'1.5MB'"},
    {"max_lag_bytes", "16 M", E_LAGB "'16 M'"},
    {"max_lag_bytes", "1PB", E_LAGB "'1PB'"},
    {"max_lag_bytes", "1025GB", E_LAGB "'1025GB'"},
    {"max_lag_bytes", "2TB", E_LAGB "'2TB'"},
    {"max_lag_bytes", "1099511627777", E_LAGB "'1099511627777'"},
    {"max_lag_bytes", "99999999999TB", E_LAGB "'99999999999TB'"},
    {"max_lag_time", "86400.000001", E_LAGT "'86400.000001'"},
    {"max_lag_time", "-1", E_LAGT "'-1'"},
    {"max_lag_time", "1m", E_LAGT "'1m'"},
    {"max_lag_time", "", E_LAGT "''"},
    {"no_fresh_replica", "fail", E_NOFRESH "'fail'"},
    {"no_fresh_replica", "replica", E_NOFRESH "'replica'"},
    {"no_fresh_replica", "master wait", E_NOFRESH "'master wait'"},
    {"no_fresh_replica", "", E_NOFRESH "''"},
    {"no_fresh_replica_timeout", "0", E_NFTO "'0'"},
    {"no_fresh_replica_timeout", "0.0009", E_NFTO "'0.0009'"},
    {"no_fresh_replica_timeout", "3601", E_NFTO "'3601'"},
    {"no_fresh_replica_timeout", "", E_NFTO "''"},
    /* read-your-writes */
    {"read_your_writes", "on", E_RYW "'on'"},
    {"read_your_writes", "true", E_RYW "'true'"},
    {"read_your_writes", "sessions", E_RYW "'sessions'"},
    {"read_your_writes", "", E_RYW "''"},
    {"read_your_writes_wait", "60.000001", E_RYWW "'60.000001'"},
    {"read_your_writes_wait", "-0.1", E_RYWW "'-0.1'"},
    {"read_your_writes_wait", "0.0000001", E_RYWW "'0.0000001'"},
    {"read_your_writes_wait", "x", E_RYWW "'x'"},
    /* failover */
    {"failover", "", E_BOOL "''"},
    {"failover", "auto", E_BOOL "'auto'"},
    {"failover", "2", E_BOOL "'2'"},
    {"failover_after", "0", E_HYST "'0'"},
    {"failover_after", "101", E_HYST "'101'"},
    {"failover_after", "-1", E_HYST "'-1'"},
    {"failover_after", "2.5", E_HYST "'2.5'"},
    {"failover_after", "", E_HYST "''"},
    {"failover_timeout", "0", E_FOTO "'0'"},
    {"failover_timeout", "0.999999", E_FOTO "'0.999999'"},
    {"failover_timeout", "3600.000001", E_FOTO "'3600.000001'"},
    {"failover_timeout", "30s", E_FOTO "'30s'"},
    {"failover_timeout", "-1", E_FOTO "'-1'"},
    {"failover_timeout", "", E_FOTO "''"},
    {"max_failover_lag", "", E_LAGB "''"},
    {"max_failover_lag", "-1", E_LAGB "'-1'"},
    {"max_failover_lag", "1.5MB", E_LAGB "'1.5MB'"},
    {"max_failover_lag", "16 M", E_LAGB "'16 M'"},
    {"max_failover_lag", "2TB", E_LAGB "'2TB'"},
    {"max_failover_lag", "1099511627777", E_LAGB "'1099511627777'"},
    {"write_wait_timeout", "3600.000001", E_WWT "'3600.000001'"},
    {"write_wait_timeout", "-1", E_WWT "'-1'"},
    {"write_wait_timeout", "0.0000001", E_WWT "'0.0000001'"},
    {"write_wait_timeout", "forever", E_WWT "'forever'"},
    {"write_wait_timeout", "", E_WWT "''"},
    {"promote_user", NAME64, "expected at most 63 characters, got 64"},
    {"replication_user", NAME64, "expected at most 63 characters, got 64"},
    {"promote_command", "promote %x", E_PCMD "'%x'"},
    /* %N %H %P (the new master) belong to follow_command only */
    {"promote_command", "promote %N", E_PCMD "'%N'"},
    {"promote_command", "promote 100%", E_PCMD "'%'"},
    {"promote_command", "%%%", E_PCMD "'%'"},
    {"promote_command", "% n", E_PCMD "'% '"},
    {"promote_command", "%n %h %p %H", E_PCMD "'%H'"},
    {"follow_command", "follow %x", E_FCMD "'%x'"},
    {"follow_command", "%n%N%q", E_FCMD "'%q'"},
    {"follow_command", "%", E_FCMD "'%'"},
    {"fence_old_master", "", E_BOOL "''"},
    {"fence_old_master", "maybe", E_BOOL "'maybe'"},
};

Test(config, bad_values)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_values); i++) {
		const ValueCase *c = &bad_values[i];
		char text[1024], what[256], msg[512];

		snprintf(text, sizeof(text), HEAD "%s = %s\n" NODE0, c->key, c->value);
		snprintf(what, sizeof(what), "%s = %s", c->key, c->value);
		snprintf(msg, sizeof(msg), "test.ini:3: key '%s': %s", c->key, c->expect);
		expect_error(what, text, msg);
	}
}

/* ---- structure errors ---------------------------------------------------------- */

typedef struct ErrorCase {
	const char *what;
	const char *text;
	const char *msg;
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"unknown section", "[pgrelay]\nauth_type = trust\n[pgbouncer]\nx = 1\n" NODE0,
     "test.ini:3: unknown section 'pgbouncer'"},
    {"unknown empty section at the end", "[pgrelay]\nauth_type = trust\n" NODE0 "[extra]\n",
     "test.ini:7: unknown section 'extra'"},
    {"section name is not trimmed", "[ pgrelay ]\n", "test.ini:1: unknown section ' pgrelay '"},
    {"empty section name", "[]\n", "test.ini:1: unknown section ''"},
    {"unknown key", "[pgrelay]\nauth_type = trust\nlisten = 1\n" NODE0,
     "test.ini:3: key 'listen': unknown key in section [pgrelay]"},
    {"key names are case-sensitive", "[pgrelay]\nPool_Size = 1\n" NODE0,
     "test.ini:2: key 'Pool_Size': unknown key in section [pgrelay]"},
    {"unknown node key", "[pgrelay]\nauth_type = trust\n" NODE0 "prio = 2\n",
     "test.ini:7: key 'prio': unknown key in section [node.n0]"},
    {"a node key is no [pgrelay] key", "[pgrelay]\nauth_type = trust\npriority = 2\n" NODE0,
     "test.ini:3: key 'priority': unknown key in section [pgrelay]"},
    {"a [pgrelay] key is no node key", "[pgrelay]\nauth_type = trust\n" NODE0 "failover = on\n",
     "test.ini:7: key 'failover': unknown key in section [node.n0]"},
    {"key outside any section", "pool_size = 3\n" HEAD NODE0,
     "test.ini:1: key 'pool_size': must be inside a section such as [pgrelay]"},
    {"duplicate key", "[pgrelay]\nauth_type = trust\npool_size = 1\n\npool_size = 2\n" NODE0,
     "test.ini:5: key 'pool_size': duplicate key (first set on line 3)"},
    {"duplicate key in a repeated section",
     "[pgrelay]\nauth_type = trust\n" NODE0 "[pgrelay]\nauth_type = md5\n",
     "test.ini:8: key 'auth_type': duplicate key (first set on line 2)"},
    {"indented line is not a continuation", "[pgrelay]\npool_size = 5\n   pool_size = 6\n",
     "test.ini:3: key 'pool_size': duplicate key (first set on line 2)"},
    {"duplicate node key", "[pgrelay]\nauth_type = trust\n" NODE0 "port = 5433\n",
     "test.ini:7: key 'port': duplicate key (first set on line 5)"},
    {"no master", "[pgrelay]\nauth_type = trust\n[node.a]\nhost = h\nport = 1\nrole = replica\n",
     "test.ini: no node has role = master"},
    {"no nodes", "[pgrelay]\nauth_type = trust\n",
     "test.ini: no [node.NAME] section: at least one node is required"},
    {"empty file", "", "test.ini: no [node.NAME] section: at least one node is required"},
    {"two masters",
     "[pgrelay]\nauth_type = trust\n" NODE0 "[node.n1]\nhost = h\nport = 1\nrole = master\n",
     "test.ini:10: key 'role': node 'n0' is already the master; exactly one node may have "
     "role = master"},
    {"missing host", "[pgrelay]\nauth_type = trust\n" NODE0 "[node.n1]\nport = 5433\n",
     "test.ini:7: section 'node.n1': key 'host' is required"},
    {"missing port", "[pgrelay]\nauth_type = trust\n[node.n1]\nhost = h\nrole = master\n",
     "test.ini:3: section 'node.n1': key 'port' is required"},
    {"empty node section", "[pgrelay]\nauth_type = trust\n[node.n1]\n" NODE0,
     "test.ini:3: section 'node.n1': key 'host' is required"},
    {"duplicate node", "[pgrelay]\nauth_type = trust\n" NODE0 "[node.n1]\n[node.n0]\n",
     "test.ini:8: section 'node.n0': duplicate node (first defined on line 3)"},
    {"empty node name", "[node.]\n",
     "test.ini:1: section 'node.': a node name is 1 to 63 letters, digits, '_' or '-'"},
    {"bad node name", "[node.a b]\n",
     "test.ini:1: section 'node.a b': a node name is 1 to 63 letters, digits, '_' or '-'"},
    {"node name too long",
     "[node.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
     "test.ini:1: section 'node.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': "
     "a node name is 1 to 63 letters, digits, '_' or '-'"},
    {"bad port", "[node.n0]\nhost = h\nport = 5432x\n",
     "test.ini:3: key 'port': expected an integer from 1 to 65535, got '5432x'"},
    {"port zero", "[node.n0]\nhost = h\nport = 0\n",
     "test.ini:3: key 'port': expected an integer from 1 to 65535, got '0'"},
    {"bad role", "[node.n0]\nhost = h\nrole = primary\n",
     "test.ini:3: key 'role': expected master or replica, got 'primary'"},
    {"weight too large", "[node.n0]\nhost = h\nweight = 1001\n",
     "test.ini:3: key 'weight': expected an integer from 0 to 1000, got '1001'"},
    {"negative weight", "[node.n0]\nhost = h\nweight = -1\n",
     "test.ini:3: key 'weight': expected an integer from 0 to 1000, got '-1'"},
    {"weight not an integer", "[node.n0]\nweight = 1.5\n",
     "test.ini:2: key 'weight': expected an integer from 0 to 1000, got '1.5'"},
    {"empty weight", "[node.n0]\nweight =\n",
     "test.ini:2: key 'weight': expected an integer from 0 to 1000, got ''"},
    {"duplicate weight", "[pgrelay]\nauth_type = trust\n" NODE0 "weight = 1\nweight = 2\n",
     "test.ini:8: key 'weight': duplicate key (first set on line 7)"},
    {"empty host", "[node.n0]\nhost =\n",
     "test.ini:2: key 'host': expected a host name or numeric address of at most 255 "
     "characters, got ''"},
    {"host with a blank", "[node.n0]\nhost = a b\n",
     "test.ini:2: key 'host': expected a host name or numeric address of at most 255 "
     "characters, got 'a b'"},
    {"auth_file required", "[pgrelay]\nauth_type = md5\n" NODE0,
     "test.ini: key 'auth_file': required when auth_type is not trust"},
    {"auth_file required by default", NODE0,
     "test.ini: key 'auth_file': required when auth_type is not trust"},
    {"line without =", "[pgrelay]\njunk\n",
     "test.ini:2: syntax error: expected [section], key = value or a comment"},
    {"unclosed section", "[pgrelay\n",
     "test.ini:1: syntax error: expected [section], key = value or a comment"},
    {"comment before ]", "[pgrelay ;]\n",
     "test.ini:1: syntax error: expected [section], key = value or a comment"},
    {"syntax error before a bad key", "[pgrelay]\njunk\nnope = 1\n",
     "test.ini:2: syntax error: expected [section], key = value or a comment"},
    {"bad key before a syntax error", "[pgrelay]\nnope = 1\njunk\n",
     "test.ini:2: key 'nope': unknown key in section [pgrelay]"},
    {"line numbers count comments and blanks",
     "; c\n\n# c\n[pgrelay]\n\n  ; indented comment\nauth_type = trust\n\npool_size = x\n",
     "test.ini:9: key 'pool_size': expected an integer from 1 to 10000, got 'x'"},
    {"CRLF line ends", "[pgrelay]\r\nauth_type = trust\r\npool_size = x\r\n",
     "test.ini:3: key 'pool_size': expected an integer from 1 to 10000, got 'x'"},
    {"line too long",
     "[pgrelay]\nserver_reset_query = "
     "SELECT 1234567890123456789012345678901234567890123456789012345678901234567890"
     "1234567890123456789012345678901234567890123456789012345678901234567890"
     "1234567890123456789012345678901234567890123456789012345678901234567890\n",
     "test.ini:2: line is longer than 199 characters"},
};

Test(config, errors)
{
	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++)
		expect_error(error_cases[i].what, error_cases[i].text, error_cases[i].msg);
}

Test(config, too_many_nodes)
{
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof(text),
				      "[pgrelay]\nauth_type = trust\nmonitor_user = mon\n");

	for (int i = 0; i <= CFG_MAX_NODES; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[node.n%d]\nhost = 10.0.0.%d\nport = 5432\nrole = %s\n", i,
					i, i ? "replica" : "master");
	/* node n16 (the 17th) starts on line 4 + 16 * 4 */
	expect_error("17 nodes", text,
		     "test.ini:68: section 'node.n16': too many nodes (at most 16)");

	/* exactly the maximum loads */
	text[strstr(text, "[node.n16]") - text] = '\0';
	Config *cfg = expect_load("16 nodes", text);
	cr_expect_eq(cfg->nnodes, CFG_MAX_NODES);
	config_free(cfg);
}

Test(config, too_many_databases)
{
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof(text),
				      "[pgrelay]\nauth_type = trust\n" NODE0 "[databases]\n");

	for (int i = 0; i <= CFG_MAX_DATABASES; i++)
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, "db%d = dbname=x%d\n", i, i);
	expect_error("65 databases", text,
		     "test.ini:72: key 'db64': too many databases (at most 64)");

	text[strstr(text, "db64 =") - text] = '\0';
	Config *cfg = expect_load("64 databases", text);
	cr_expect_eq(cfg->ndatabases, CFG_MAX_DATABASES);
	cr_expect_str_eq(config_find_database(cfg, "db63")->dbname, "x63");
	config_free(cfg);
}

Test(config, bom_and_blank_handling)
{
	Config *cfg = expect_load("bom", "\xEF\xBB\xBF[pgrelay]\n\t auth_type = trust  \n"
					 "  [node.n0]  \n host=::1\nport=1\nrole=MASTER\n");

	cr_expect_eq(cfg->auth_type, AUTH_TRUST);
	cr_expect_str_eq(cfg->auth_file, "");
	cr_expect_str_eq(cfg->nodes[0].host, "::1");
	cr_expect_eq(cfg->nodes[0].role, ROLE_MASTER);
	config_free(cfg);
}

/* A long node name is kept whole (inih alone would cut section names at 49 bytes). */
Test(config, long_node_name)
{
	Config *cfg = expect_load("long name", "[pgrelay]\nauth_type = trust\n"
					       "[node.abcdefghijklmnopqrstuvwxyz0123456789"
					       "ABCDEFGHIJKLMNOPQRSTU]\nhost = h\nport = 1\n"
					       "role = master\n");

	cr_expect_str_eq(cfg->nodes[0].name,
			 "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU");
	cr_expect_str_eq(config_master(cfg)->name, cfg->nodes[0].name);
	config_free(cfg);
}

/* ---- read routing: function lists, node weights ------------------------------- */

typedef struct FuncListCase {
	const char *value;
	size_t n;
	const char *expect[4][2]; /* schema, name */
} FuncListCase;

static const FuncListCase func_lists[] = {
    {"", 0, {{NULL}}},
    {"f", 1, {{"", "f"}}},
    {"Now_UTC", 1, {{"", "now_utc"}}},
    {"  Foo ,bar,  baz  ", 3, {{"", "foo"}, {"", "bar"}, {"", "baz"}}},
    {"_x, x1, x$y, a_$9", 4, {{"", "_x"}, {"", "x1"}, {"", "x$y"}, {"", "a_$9"}}},
    {"public.now_utc", 1, {{"public", "now_utc"}}},
    {"Public.Area, geo.Dist_2$", 2, {{"public", "area"}, {"geo", "dist_2$"}}},
    {"f, s.f", 2, {{"", "f"}, {"s", "f"}}},
    {"\"MyFunc\"", 1, {{"", "MyFunc"}}},
    {"\"My\"\"Func\"\"\"", 1, {{"", "My\"Func\""}}},
    {"\"\"\"\"", 1, {{"", "\""}}},
    {"\"a,b\", c", 2, {{"", "a,b"}, {"", "c"}}},
    {"\"Sch ema\".\"F\"", 1, {{"Sch ema", "F"}}},
    {"s.\"F\", \"S\".f", 2, {{"s", "F"}, {"S", "f"}}},
    {"\"F\", F", 2, {{"", "F"}, {"", "f"}}},
    {"\"1st\", \"with.dot\"", 2, {{"", "1st"}, {"", "with.dot"}}},
    {"\"a;b\"", 1, {{"", "a;b"}}},
    /* bytes >= 0x80 are letters; only ASCII is folded */
    {"\xC3\x89t\xC3\xA9, Caf\xC3\xA9", 2, {{"", "\xC3\x89t\xC3\xA9"}, {"", "caf\xC3\xA9"}}},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA",
     1,
     {{"", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}},
};

/* Each list parses to the expected entries, in both keys, and is stored as written. */
Test(config, function_lists)
{
	static const char *const keys[] = {"read_only_functions", "write_functions"};

	for (size_t i = 0; i < ARRAY_SIZE(func_lists); i++) {
		const FuncListCase *c = &func_lists[i];

		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			char text[1024];
			Config *cfg;
			const CfgFunc *list;
			size_t n;

			snprintf(text, sizeof(text), HEAD "%s = %s\n" NODE0, keys[k], c->value);
			cfg = load(text);
			cr_expect_not_null(cfg, "%s = %s: %s", keys[k], c->value, errbuf);
			if (!cfg)
				continue;
			list = k == 0 ? cfg->read_only_funcs : cfg->write_funcs;
			n = k == 0 ? cfg->nread_only_funcs : cfg->nwrite_funcs;
			/* the text is kept as written, without the blanks around it */
			snprintf(text, sizeof(text), "%s", c->value + strspn(c->value, " "));
			while (text[0] && text[strlen(text) - 1] == ' ')
				text[strlen(text) - 1] = '\0';
			cr_expect_str_eq(k == 0 ? cfg->read_only_functions : cfg->write_functions,
					 text);
			cr_expect_eq(k == 0 ? cfg->nwrite_funcs : cfg->nread_only_funcs, 0);
			cr_expect_eq(n, c->n, "%s = %s: %zu entries", keys[k], c->value, n);
			for (size_t j = 0; j < n && j < c->n; j++) {
				cr_expect_str_eq(list[j].schema, c->expect[j][0], "%s: entry %zu",
						 c->value, j);
				cr_expect_str_eq(list[j].name, c->expect[j][1], "%s: entry %zu",
						 c->value, j);
			}
			config_free(cfg);
		}
	}
}

Test(config, func_listed)
{
	Config *cfg =
	    expect_load("list", HEAD "read_only_functions = f, s.g, \"G\", \"T\".\"H\"\n" NODE0);
	const CfgFunc *l = cfg->read_only_funcs;
	size_t n = cfg->nread_only_funcs;

	cr_assert_eq(n, 4);
	/* an entry without a schema matches every call of that name */
	cr_expect(config_func_listed(l, n, NULL, "f"));
	cr_expect(config_func_listed(l, n, "s", "f"));
	cr_expect(config_func_listed(l, n, "pg_catalog", "f"));
	cr_expect_not(config_func_listed(l, n, NULL, "F"), "names are compared as folded");
	/* an entry with a schema matches only calls qualified with it */
	cr_expect(config_func_listed(l, n, "s", "g"));
	cr_expect_not(config_func_listed(l, n, NULL, "g"));
	cr_expect_not(config_func_listed(l, n, "", "g"));
	cr_expect_not(config_func_listed(l, n, "S", "g"));
	cr_expect_not(config_func_listed(l, n, "t", "g"));
	cr_expect(config_func_listed(l, n, NULL, "G"));
	cr_expect(config_func_listed(l, n, "x", "G"));
	cr_expect(config_func_listed(l, n, "T", "H"));
	cr_expect_not(config_func_listed(l, n, "t", "h"));
	cr_expect_not(config_func_listed(l, n, NULL, "H"));
	cr_expect_not(config_func_listed(l, n, NULL, "other"));
	cr_expect_not(config_func_listed(l, 0, NULL, "f"));
	cr_expect_not(config_func_listed(cfg->write_funcs, cfg->nwrite_funcs, NULL, "f"));
	config_free(cfg);
}

/* No function may be in both lists; the key on the later line is named. */
static const ErrorCase func_conflicts[] = {
    {"same name, write later", HEAD "read_only_functions = a, f\nwrite_functions = b, F\n" NODE0,
     "test.ini:4: key 'write_functions': function 'f' is also listed in read_only_functions "
     "(line 3)"},
    {"same name, read-only later",
     HEAD "write_functions = f\n\nread_only_functions = \"f\"\n" NODE0,
     "test.ini:5: key 'read_only_functions': function 'f' is also listed in write_functions "
     "(line 3)"},
    {"same qualified name", HEAD "read_only_functions = s.f\nwrite_functions = S.F\n" NODE0,
     "test.ini:4: key 'write_functions': function 's.f' is also listed in read_only_functions "
     "(line 3)"},
    {"unqualified entry covers the qualified one",
     HEAD "read_only_functions = s.f\nwrite_functions = f\n" NODE0,
     "test.ini:4: key 'write_functions': function 'f' is also listed in read_only_functions "
     "(as 's.f', line 3)"},
    {"qualified entry later", HEAD "read_only_functions = f\nwrite_functions = x.f\n" NODE0,
     "test.ini:4: key 'write_functions': function 'x.f' is also listed in "
     "read_only_functions (as 'f', line 3)"},
    {"quoted names are shown quoted",
     HEAD "write_functions = \"My Func\"\nread_only_functions = x, \"My Func\"\n" NODE0,
     "test.ini:4: key 'read_only_functions': function '\"My Func\"' is also listed in "
     "write_functions (line 3)"},
    {"quotes inside a name are doubled",
     HEAD "write_functions = \"A\"\"b\"\nread_only_functions = \"A\"\"b\"\n" NODE0,
     "test.ini:4: key 'read_only_functions': function '\"A\"\"b\"' is also listed in "
     "write_functions (line 3)"},
    {"keys in repeated [pgrelay] sections",
     HEAD "read_only_functions = f\n" NODE0 "[pgrelay]\nwrite_functions = f\n",
     "test.ini:9: key 'write_functions': function 'f' is also listed in read_only_functions "
     "(line 3)"},
};

Test(config, function_in_both_lists)
{
	for (size_t i = 0; i < ARRAY_SIZE(func_conflicts); i++)
		expect_error(func_conflicts[i].what, func_conflicts[i].text, func_conflicts[i].msg);
}

/* Lists that only look alike load. */
Test(config, function_lists_without_conflict)
{
	static const char *const pairs[][2] = {
	    {"a.f", "b.f"}, {"\"F\"", "f"}, {"f", "g"}, {"s.f", "s.g"}, {"f", ""},
	};

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		char text[512];
		Config *cfg;

		snprintf(text, sizeof(text),
			 HEAD "read_only_functions = %s\nwrite_functions = %s\n" NODE0, pairs[i][0],
			 pairs[i][1]);
		cfg = load(text);
		cr_expect_not_null(cfg, "%s / %s: %s", pairs[i][0], pairs[i][1], errbuf);
		config_free(cfg);
	}
}

/* weight defaults by role, resolved after the section: role may come after weight. */
Test(config, node_weights)
{
	Config *cfg = expect_load(
	    "weights",
	    "[pgrelay]\nauth_type = trust\nmonitor_user = mon\n"
	    "[node.r1]\nhost = h\nport = 1\n"				  /* replica, default */
	    "[node.r2]\nhost = h\nport = 2\nrole = replica\n"		  /* replica, default */
	    "[node.r3]\nweight = 0\nhost = h\nport = 3\n"		  /* replica, no reads */
	    "[node.r4]\nhost = h\nport = 4\nweight = 1000\n"		  /* replica, max */
	    "[node.m]\nweight = 3\nhost = h\nport = 5\nrole = master\n"); /* later role */
	static const int expect[] = {1, 1, 0, 1000, 3};

	cr_assert_eq(cfg->nnodes, ARRAY_SIZE(expect));
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++)
		cr_expect_eq(cfg->nodes[i].weight, expect[i], "node %s", cfg->nodes[i].name);
	cr_expect_eq(config_master(cfg), &cfg->nodes[4]);
	config_free(cfg);

	cfg = expect_load("master default", "[pgrelay]\nauth_type = trust\nroute_reads = off\n"
					    "failover = off\n"
					    "[node.m]\nhost = h\nport = 1\nrole = master\n"
					    "[node.r]\nhost = h\nport = 2\n");
	cr_expect_eq(cfg->nodes[0].weight, 0, "the master serves no reads by default");
	cr_expect_eq(cfg->nodes[1].weight, 1);
	config_free(cfg);
}

/* ---- [databases] ---------------------------------------------------------------- */

#define DBHEAD "[pgrelay]\nauth_type = trust\n" NODE0 "[databases]\n" /* lines 1-7 */

static const ErrorCase database_errors[] = {
    {"unknown field", DBHEAD "app = db=x\n",
     "test.ini:8: key 'app': unknown field 'db' (expected dbname, user, password, pool_size "
     "or read_your_writes)"},
    {"field names are case-sensitive", DBHEAD "app = DBNAME=x\n",
     "test.ini:8: key 'app': unknown field 'DBNAME' (expected dbname, user, password, "
     "pool_size or read_your_writes)"},
    {"no =", DBHEAD "app = dbname=x user\n",
     "test.ini:8: key 'app': expected FIELD=VALUE, "
     "got 'user'"},
    {"empty field name", DBHEAD "app = =x\n",
     "test.ini:8: key 'app': expected FIELD=VALUE, got '=x'"},
    {"field twice", DBHEAD "app = user=a user=b\n",
     "test.ini:8: key 'app': field 'user' is given twice"},
    {"missing closing quote", DBHEAD "app = password='abc\n",
     "test.ini:8: key 'app': field 'password': missing closing quote"},
    {"text after the closing quote", DBHEAD "app = password='abc'def\n",
     "test.ini:8: key 'app': field 'password': expected a blank after the closing quote"},
    {"bad pool_size", DBHEAD "app = pool_size=0\n",
     "test.ini:8: key 'app': field 'pool_size': expected an integer from 1 to 10000, got '0'"},
    {"empty pool_size", DBHEAD "app = pool_size=\n",
     "test.ini:8: key 'app': field 'pool_size': expected an integer from 1 to 10000, got ''"},
    {"dbname too long",
     DBHEAD "app = dbname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "test.ini:8: key 'app': field 'dbname': longer than 63 characters"},
    {"user too long",
     DBHEAD "app = user='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\n",
     "test.ini:8: key 'app': field 'user': longer than 63 characters"},
    {"database name too long",
     DBHEAD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = \n",
     "test.ini:8: key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': a "
     "database name is 1 to 63 characters"},
    {"empty database name", DBHEAD "= dbname=x\n",
     "test.ini:8: key '': a database name is 1 to 63 characters"},
    {"reserved name", DBHEAD "pgrelay = dbname=x\n",
     "test.ini:8: key 'pgrelay': the database name pgrelay is reserved for the admin console"},
    {"duplicate database", DBHEAD "app =\n* =\napp = dbname=y\n",
     "test.ini:10: key 'app': duplicate key (first set on line 8)"},
    {"duplicate fallback", DBHEAD "* =\n* = dbname=y\n",
     "test.ini:9: key '*': duplicate key (first set on line 8)"},
    {"bad read_your_writes", DBHEAD "app = dbname=x read_your_writes=always\n",
     "test.ini:8: key 'app': field 'read_your_writes': expected off, session or global, got "
     "'always'"},
    {"empty read_your_writes", DBHEAD "app = read_your_writes=\n",
     "test.ini:8: key 'app': field 'read_your_writes': expected off, session or global, got "
     "''"},
    {"read_your_writes given twice", DBHEAD "app = read_your_writes=off read_your_writes=off\n",
     "test.ini:8: key 'app': field 'read_your_writes' is given twice"},
    {"read_your_writes is lower case", DBHEAD "app = Read_Your_Writes=off\n",
     "test.ini:8: key 'app': unknown field 'Read_Your_Writes' (expected dbname, user, "
     "password, pool_size or read_your_writes)"},
};

Test(config, database_errors)
{
	for (size_t i = 0; i < ARRAY_SIZE(database_errors); i++)
		expect_error(database_errors[i].what, database_errors[i].text,
			     database_errors[i].msg);
}

Test(config, database_quoting)
{
	Config *cfg = expect_load("quotes", DBHEAD "a = password='' user='''' dbname='x y z'\n"
						   "b = password='a''b''''c'   pool_size='12'\n"
						   "c =    user=o'brien   dbname=x=y\n"
						   "d = password='tab\there' user='a;b'\n");
	const CfgDatabase *db;

	db = config_find_database(cfg, "a");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->password, "");
	cr_expect_str_eq(db->user, "'");
	cr_expect_str_eq(db->dbname, "x y z");
	db = config_find_database(cfg, "b");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->password, "a'b''c");
	cr_expect_eq(db->pool_size, 12);
	db = config_find_database(cfg, "c");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->user, "o'brien");
	cr_expect_str_eq(db->dbname, "x=y");
	db = config_find_database(cfg, "d");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->password, "tab\there");
	cr_expect_str_eq(db->user, "a;b");
	config_free(cfg);
}

Test(config, database_find_order)
{
	/* the fallback comes first in the file: an exact name still wins */
	Config *cfg = expect_load("order", DBHEAD "* = dbname=fallback\n"
						  "app = dbname=app_db\n"
						  "App = dbname=upper\n");

	cr_expect_str_eq(config_find_database(cfg, "app")->dbname, "app_db");
	cr_expect_str_eq(config_find_database(cfg, "App")->dbname, "upper");
	cr_expect_str_eq(config_find_database(cfg, "APP")->dbname, "fallback");
	cr_expect_str_eq(config_find_database(cfg, "")->dbname, "fallback");
	cr_expect_str_eq(config_find_database(cfg, "*")->dbname, "fallback");
	config_free(cfg);

	cfg = expect_load("no fallback", DBHEAD "app = dbname=app_db\n");
	cr_expect_not_null(config_find_database(cfg, "app"));
	cr_expect_null(config_find_database(cfg, "other"));
	cr_expect_null(config_find_database(cfg, "*"));
	config_free(cfg);
}

Test(config, database_read_your_writes)
{
	Config *cfg =
	    expect_load("read_your_writes", DBHEAD "a = read_your_writes=off\n"
						   "b = dbname=x read_your_writes=Session "
						   "pool_size=3\n"
						   "c = read_your_writes='GLOBAL'\n"
						   "d = dbname=y\n");
	static const int expect[] = {RYW_OFF, RYW_SESSION, RYW_GLOBAL, -1};

	cr_assert_eq(cfg->ndatabases, ARRAY_SIZE(expect));
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++)
		cr_expect_eq(cfg->databases[i].read_your_writes, expect[i], "database %s",
			     cfg->databases[i].name);
	cr_expect_str_eq(cfg->databases[1].dbname, "x");
	cr_expect_eq(cfg->databases[1].pool_size, 3);
	config_free(cfg);
}

/* ---- [users] -------------------------------------------------------------------- */

#define USERHEAD "[pgrelay]\nauth_type = trust\n" NODE0 "[users]\n" /* lines 1-7 */

Test(config, users)
{
	Config *cfg =
	    expect_load("users", USERHEAD
			"alice = read_your_writes=global\n"
			"Alice = read_your_writes=Off\n"
			"bob =\n"
			"  carol   =   read_your_writes='session'  \n"
			"[databases]\n"
			"app =\n"
			"[users]\n"
			"dave = read_your_writes=session\n"
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa =\n");
	static const char *const names[] = {
	    "alice", "Alice", "bob",
	    "carol", "dave",  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	static const int expect[] = {RYW_GLOBAL, RYW_OFF, -1, RYW_SESSION, RYW_SESSION, -1};

	cr_assert_eq(cfg->nusers, ARRAY_SIZE(expect));
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
		cr_expect_str_eq(cfg->users[i].name, names[i]);
		cr_expect_eq(cfg->users[i].read_your_writes, expect[i], "user %s", names[i]);
		cr_expect_eq(config_find_user(cfg, names[i]), &cfg->users[i]);
	}
	cr_expect_null(config_find_user(cfg, "ALICE"), "user names are case-sensitive");
	cr_expect_null(config_find_user(cfg, ""));
	cr_expect_null(config_find_user(cfg, "*"));
	cr_expect_eq(cfg->ndatabases, 1);
	config_free(cfg);

	cfg = expect_load("empty [users]", USERHEAD);
	cr_expect_eq(cfg->nusers, 0);
	config_free(cfg);
}

static const ErrorCase user_errors[] = {
    {"duplicate user",
     USERHEAD "alice = read_your_writes=off\nbob =\nalice = read_your_writes=global\n",
     "test.ini:10: key 'alice': duplicate user (first set on line 8)"},
    {"duplicate user in a repeated section", USERHEAD "alice =\n[users]\nalice =\n",
     "test.ini:10: key 'alice': duplicate user (first set on line 8)"},
    {"unknown option", USERHEAD "alice = pool_size=3\n",
     "test.ini:8: key 'alice': unknown field 'pool_size' (expected read_your_writes)"},
    {"unknown option after a good one", USERHEAD "alice = read_your_writes=off dbname=x\n",
     "test.ini:8: key 'alice': unknown field 'dbname' (expected read_your_writes)"},
    {"bad value", USERHEAD "alice = read_your_writes=on\n",
     "test.ini:8: key 'alice': field 'read_your_writes': expected off, session or global, got "
     "'on'"},
    {"empty value", USERHEAD "alice = read_your_writes=\n",
     "test.ini:8: key 'alice': field 'read_your_writes': expected off, session or global, got "
     "''"},
    {"quoted bad value", USERHEAD "alice = read_your_writes='off '\n",
     "test.ini:8: key 'alice': field 'read_your_writes': expected off, session or global, got "
     "'off '"},
    {"option twice", USERHEAD "alice = read_your_writes=off read_your_writes=global\n",
     "test.ini:8: key 'alice': field 'read_your_writes' is given twice"},
    {"no =", USERHEAD "alice = global\n",
     "test.ini:8: key 'alice': expected FIELD=VALUE, got 'global'"},
    {"missing closing quote", USERHEAD "alice = read_your_writes='off\n",
     "test.ini:8: key 'alice': field 'read_your_writes': missing closing quote"},
    {"text after the closing quote", USERHEAD "alice = read_your_writes='off'x\n",
     "test.ini:8: key 'alice': field 'read_your_writes': expected a blank after the closing "
     "quote"},
    {"no fallback entry", USERHEAD "* = read_your_writes=off\n",
     "test.ini:8: key '*': [users] has no fallback entry; set the key in [pgrelay] or in "
     "[databases] instead"},
    {"empty user name", USERHEAD "= read_your_writes=off\n",
     "test.ini:8: key '': a user name is 1 to 63 characters"},
    {"user name too long", USERHEAD NAME64 " =\n",
     "test.ini:8: key '" NAME64 "': a user name is 1 to 63 characters"},
    {"read_your_writes is no [pgrelay] key in [users]", USERHEAD "read_your_writes = global\n",
     "test.ini:8: key 'read_your_writes': expected FIELD=VALUE, got 'global'"},
};

Test(config, user_errors)
{
	for (size_t i = 0; i < ARRAY_SIZE(user_errors); i++)
		expect_error(user_errors[i].what, user_errors[i].text, user_errors[i].msg);
}

Test(config, too_many_users)
{
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof(text), USERHEAD);

	for (int i = 0; i <= CFG_MAX_USERS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"u%d = read_your_writes=%s\n", i, i % 2 ? "off" : "global");
	expect_error("65 users", text, "test.ini:72: key 'u64': too many users (at most 64)");

	text[strstr(text, "u64 =") - text] = '\0';
	Config *cfg = expect_load("64 users", text);
	cr_expect_eq(cfg->nusers, CFG_MAX_USERS);
	cr_expect_eq(config_find_user(cfg, "u63")->read_your_writes, RYW_OFF);
	cr_expect_eq(config_find_user(cfg, "u0")->read_your_writes, RYW_GLOBAL);
	config_free(cfg);
}

/* ---- config_ryw_mode(): user, then database, then the global key ------------------ */

typedef struct RywCase {
	const char *database, *user;
	RywMode expect;
} RywCase;

Test(config, ryw_mode_precedence)
{
	static const RywCase cases[] = {
	    /* the user's setting wins */
	    {"app", "u_off", RYW_OFF},
	    {"app", "u_glob", RYW_GLOBAL},
	    {"other", "u_off", RYW_OFF},
	    {"plain", "u_glob", RYW_GLOBAL},
	    {NULL, "u_glob", RYW_GLOBAL},
	    /* a user without a setting, or without an entry: the database's */
	    {"app", "u_unset", RYW_GLOBAL},
	    {"app", "nobody", RYW_GLOBAL},
	    {"app", NULL, RYW_GLOBAL},
	    /* a database not listed: the "*" entry's */
	    {"other", "nobody", RYW_SESSION},
	    {"other", "u_unset", RYW_SESSION},
	    {"", "nobody", RYW_SESSION},
	    /* a listed database that does not set it: the global key, not "*" */
	    {"plain", "nobody", RYW_OFF},
	    {"plain", "u_unset", RYW_OFF},
	    /* nothing to look up: the global key */
	    {NULL, NULL, RYW_OFF},
	    {NULL, "nobody", RYW_OFF},
	    /* user names and database names are case-sensitive */
	    {"APP", "U_OFF", RYW_SESSION},
	};
	Config *cfg = expect_load(
	    "ryw", "[pgrelay]\nauth_type = trust\nread_your_writes = off\n" NODE0 "[databases]\n"
		   "app = read_your_writes=global\n"
		   "plain = dbname=x\n"
		   "* = read_your_writes=session\n"
		   "[users]\n"
		   "u_off = read_your_writes=off\n"
		   "u_glob = read_your_writes=global\n"
		   "u_unset =\n");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const RywCase *c = &cases[i];

		cr_expect_eq(config_ryw_mode(cfg, c->database, c->user), c->expect,
			     "database %s, user %s: got %s, expected %s",
			     c->database ? c->database : "(null)", c->user ? c->user : "(null)",
			     ryw_mode_name(config_ryw_mode(cfg, c->database, c->user)),
			     ryw_mode_name(c->expect));
	}
	config_free(cfg);

	/* without a "*" entry an unlisted database has the global key */
	cfg = expect_load("no fallback",
			  "[pgrelay]\nauth_type = trust\nread_your_writes = global\n" NODE0
			  "[databases]\napp = read_your_writes=off\n"
			  "[users]\nu = read_your_writes=session\n");
	cr_expect_eq(config_ryw_mode(cfg, "app", "x"), RYW_OFF);
	cr_expect_eq(config_ryw_mode(cfg, "other", "x"), RYW_GLOBAL);
	cr_expect_eq(config_ryw_mode(cfg, "other", "u"), RYW_SESSION);
	config_free(cfg);

	/* the default global key, nothing else configured */
	cfg = expect_load("defaults", HEAD NODE0);
	cr_expect_eq(config_ryw_mode(cfg, "db", "user"), RYW_SESSION);
	config_free(cfg);
}

Test(config, enum_names)
{
	cr_expect_str_eq(ryw_mode_name(RYW_OFF), "off");
	cr_expect_str_eq(ryw_mode_name(RYW_SESSION), "session");
	cr_expect_str_eq(ryw_mode_name(RYW_GLOBAL), "global");
	cr_expect_str_eq(ryw_mode_name((RywMode)3), "?");
	cr_expect_str_eq(ryw_mode_name((RywMode)-1), "?");
	cr_expect_str_eq(no_fresh_policy_name(NOFRESH_MASTER), "master");
	cr_expect_str_eq(no_fresh_policy_name(NOFRESH_WAIT), "wait");
	cr_expect_str_eq(no_fresh_policy_name(NOFRESH_ERROR), "error");
	cr_expect_str_eq(no_fresh_policy_name((NoFreshPolicy)3), "?");
}

/* ---- monitor_user is required to route reads to replicas --------------------------- */

#define E_MONUSER                                                                                  \
	"test.ini: key 'monitor_user': required when route_reads = on and a replica is "           \
	"configured (the monitor measures replica lag with it)"
#define REPLICA1 "[node.r1]\nhost = 127.0.0.1\nport = 5433\nrole = replica\n"

static const ErrorCase monitor_user_errors[] = {
    {"replica, route_reads by default", "[pgrelay]\nauth_type = trust\n" NODE0 REPLICA1, E_MONUSER},
    {"replica, route_reads = on",
     "[pgrelay]\nauth_type = trust\nroute_reads = yes\n" NODE0 REPLICA1, E_MONUSER},
    {"replica by default role, before the master",
     "[pgrelay]\nauth_type = trust\n[node.r]\nhost = h\nport = 1\n" NODE0, E_MONUSER},
    {"replica with weight 0", "[pgrelay]\nauth_type = trust\n" NODE0 REPLICA1 "weight = 0\n",
     E_MONUSER},
    {"empty monitor_user", "[pgrelay]\nauth_type = trust\nmonitor_user =\n" NODE0 REPLICA1,
     E_MONUSER},
    /* a value error is reported rather than the missing monitor_user */
    {"value error first",
     "[pgrelay]\nauth_type = trust\n" NODE0 REPLICA1 "[pgrelay]\npool_size = 0\n",
     "test.ini:12: key 'pool_size': expected an integer from 1 to 10000, got '0'"},
};

Test(config, monitor_user_required)
{
	for (size_t i = 0; i < ARRAY_SIZE(monitor_user_errors); i++)
		expect_error(monitor_user_errors[i].what, monitor_user_errors[i].text,
			     monitor_user_errors[i].msg);
}

Test(config, monitor_user_not_required)
{
	static const char *const ok[][2] = {
	    {"route_reads = off",
	     "[pgrelay]\nauth_type = trust\nroute_reads = off\nfailover = off\n" NODE0 REPLICA1},
	    {"route_reads = off, promote_user set",
	     "[pgrelay]\nauth_type = trust\nroute_reads = off\npromote_user = p\n" NODE0 REPLICA1},
	    {"no replica", "[pgrelay]\nauth_type = trust\nroute_reads = on\n" NODE0},
	    {"master serving reads, no replica",
	     "[pgrelay]\nauth_type = trust\n" NODE0 "weight = 5\n"},
	    {"monitor_user set",
	     "[pgrelay]\nauth_type = trust\nmonitor_user = mon\n" NODE0 REPLICA1},
	    {"monitor_user in a later [pgrelay] section",
	     "[pgrelay]\nauth_type = trust\n" NODE0 REPLICA1 "[pgrelay]\nmonitor_user = mon\n"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		Config *cfg = load(ok[i][1]);

		cr_expect_not_null(cfg, "%s: %s", ok[i][0], errbuf);
		config_free(cfg);
	}
}

/* ---- failover: the node keys, the promote_user requirement ---------------------- */

#define NAME63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

typedef struct NodeKeyCase {
	const char *lines; /* appended to the master's section */
	int priority;
	bool never_promote;
	const char *slot;
} NodeKeyCase;

static const NodeKeyCase node_key_cases[] = {
    {"", 100, false, ""},
    {"priority = 0\n", 0, false, ""},
    {"priority = 1000\n", 1000, false, ""},
    {"priority = 7\npromote = never\n", 7, true, ""},
    {"promote = NEVER\n", 100, true, ""},
    {"promote = auto\n", 100, false, ""},
    {"promote = Auto\n", 100, false, ""},
    {"replication_slot =\n", 100, false, ""},
    {"replication_slot = node_0\n", 100, false, "node_0"},
    {"replication_slot = 0slot\n", 100, false, "0slot"},
    {"replication_slot = _\n", 100, false, "_"},
    {"replication_slot = " NAME63 "\n", 100, false, NAME63},
    {"replication_slot = s1\npriority = 5\npromote = never\n", 5, true, "s1"},
};

Test(config, node_failover_keys)
{
	for (size_t i = 0; i < ARRAY_SIZE(node_key_cases); i++) {
		const NodeKeyCase *c = &node_key_cases[i];
		char text[512];
		Config *cfg;

		snprintf(text, sizeof(text), "[pgrelay]\nauth_type = trust\n" NODE0 "%s", c->lines);
		cfg = load(text);
		cr_expect_not_null(cfg, "%s: %s", c->lines, errbuf);
		if (!cfg)
			continue;
		cr_expect_eq(cfg->nodes[0].priority, c->priority, "%s", c->lines);
		cr_expect_eq(cfg->nodes[0].never_promote, c->never_promote, "%s", c->lines);
		cr_expect_str_eq(cfg->nodes[0].replication_slot, c->slot, "%s", c->lines);
		config_free(cfg);
	}
}

/*
 * Each node keeps its own settings; different slots, or none, on several
 * nodes load; the master may share its slot with a replica (role given last).
 */
Test(config, node_failover_keys_per_node)
{
	Config *cfg =
	    expect_load("nodes", "[pgrelay]\nauth_type = trust\nmonitor_user = mon\n" NODE0
				 "replication_slot = n0\n" REPLICA1 "priority = 200\n"
				 "replication_slot = r1\n"
				 "[node.r2]\nhost = h\nport = 1\npromote = never\n"
				 "[node.r3]\nhost = h\nport = 2\n");
	Config *two;

	cr_assert_eq(cfg->nnodes, 4);
	cr_expect_str_eq(cfg->nodes[0].replication_slot, "n0");
	cr_expect_eq(cfg->nodes[1].priority, 200);
	cr_expect_str_eq(cfg->nodes[1].replication_slot, "r1");
	cr_expect_eq(cfg->nodes[2].priority, 100);
	cr_expect(cfg->nodes[2].never_promote);
	cr_expect_str_eq(cfg->nodes[2].replication_slot, "");
	cr_expect_not(cfg->nodes[3].never_promote);
	cr_expect_str_eq(cfg->nodes[3].replication_slot, "");
	config_free(cfg);

	two = expect_load(
	    "two nodes, one slot",
	    "[pgrelay]\nauth_type = trust\nmonitor_user = mon\n"
	    "[node.a]\nhost = h\nport = 1\nreplication_slot = standby\n"
	    "[node.b]\nhost = h\nport = 2\nreplication_slot = standby\nrole = master\n");
	cr_expect_str_eq(two->nodes[0].replication_slot, "standby");
	cr_expect_str_eq(two->nodes[1].replication_slot, "standby");
	config_free(two);
}

#define NODEHEAD "[pgrelay]\nauth_type = trust\n" NODE0 /* lines 1-6 */
#define E_PRIO "key 'priority': expected an integer from 0 to 1000, got "
#define E_PROMOTE "key 'promote': expected auto or never, got "
#define E_SLOT                                                                                     \
	"key 'replication_slot': expected 1 to 63 lower-case letters, digits or '_' (empty = "     \
	"none), got "

static const ErrorCase node_failover_errors[] = {
    {"priority too large", NODEHEAD "priority = 1001\n", "test.ini:7: " E_PRIO "'1001'"},
    {"negative priority", NODEHEAD "priority = -1\n", "test.ini:7: " E_PRIO "'-1'"},
    {"priority not an integer", NODEHEAD "priority = 1.5\n", "test.ini:7: " E_PRIO "'1.5'"},
    {"priority not a number", NODEHEAD "priority = high\n", "test.ini:7: " E_PRIO "'high'"},
    {"empty priority", NODEHEAD "priority =\n", "test.ini:7: " E_PRIO "''"},
    {"duplicate priority", NODEHEAD "priority = 1\npriority = 2\n",
     "test.ini:8: key 'priority': duplicate key (first set on line 7)"},
    {"bad promote", NODEHEAD "promote = always\n", "test.ini:7: " E_PROMOTE "'always'"},
    {"promote is no bool", NODEHEAD "promote = off\n", "test.ini:7: " E_PROMOTE "'off'"},
    {"empty promote", NODEHEAD "promote =\n", "test.ini:7: " E_PROMOTE "''"},
    {"two promote values", NODEHEAD "promote = auto never\n",
     "test.ini:7: " E_PROMOTE "'auto never'"},
    {"duplicate promote", NODEHEAD "promote = auto\npromote = never\n",
     "test.ini:8: key 'promote': duplicate key (first set on line 7)"},
    {"slot in upper case", NODEHEAD "replication_slot = Slot1\n", "test.ini:7: " E_SLOT "'Slot1'"},
    {"slot too long", NODEHEAD "replication_slot = " NAME64 "\n",
     "test.ini:7: " E_SLOT "'" NAME64 "'"},
    {"slot with a hyphen", NODEHEAD "replication_slot = a-b\n", "test.ini:7: " E_SLOT "'a-b'"},
    {"slot with a dot", NODEHEAD "replication_slot = a.b\n", "test.ini:7: " E_SLOT "'a.b'"},
    {"slot with a blank", NODEHEAD "replication_slot = a b\n", "test.ini:7: " E_SLOT "'a b'"},
    {"slot with a quote", NODEHEAD "replication_slot = 'a'\n", "test.ini:7: " E_SLOT "''a''"},
    {"slot with a dollar", NODEHEAD "replication_slot = a$\n", "test.ini:7: " E_SLOT "'a$'"},
    {"slot with a non-ASCII letter", NODEHEAD "replication_slot = caf\xC3\xA9\n",
     "test.ini:7: " E_SLOT "'caf\xC3\xA9'"},
    {"duplicate replication_slot key", NODEHEAD "replication_slot = a\nreplication_slot = b\n",
     "test.ini:8: key 'replication_slot': duplicate key (first set on line 7)"},
    {"two replicas with one slot",
     NODEHEAD "[node.r1]\nhost = h\nport = 1\nreplication_slot = s\n[node.r2]\nhost = h\n"
	      "replication_slot = s\nport = 2\n",
     "test.ini:13: key 'replication_slot': slot 's' is already used by replica 'r1'; replicas "
     "streaming from one master need a slot each"},
    {"two replicas with one slot, a third without, the master later",
     "[pgrelay]\nauth_type = trust\n[node.a]\nreplication_slot = x\nhost = h\nport = 1\n"
     "[node.b]\nhost = h\nport = 2\n[node.c]\nhost = h\nport = 3\nreplication_slot = x\n" NODE0,
     "test.ini:13: key 'replication_slot': slot 'x' is already used by replica 'a'; replicas "
     "streaming from one master need a slot each"},
};

Test(config, node_failover_errors)
{
	for (size_t i = 0; i < ARRAY_SIZE(node_failover_errors); i++)
		expect_error(node_failover_errors[i].what, node_failover_errors[i].text,
			     node_failover_errors[i].msg);
}

#define E_PROMUSER                                                                                 \
	"test.ini: key 'promote_user': required when failover = on and a replica is configured "   \
	"(set it or monitor_user)"
/* route_reads = off: without it monitor_user would be required first */
#define NOREADS "[pgrelay]\nauth_type = trust\nroute_reads = off\n"

static const ErrorCase promote_user_errors[] = {
    {"failover by default", NOREADS NODE0 REPLICA1, E_PROMUSER},
    {"failover = on", NOREADS "failover = yes\n" NODE0 REPLICA1, E_PROMUSER},
    {"empty promote_user", NOREADS "promote_user =\npromote_password = x\n" NODE0 REPLICA1,
     E_PROMUSER},
    {"replica by default role, before the master", NOREADS "[node.r]\nhost = h\nport = 1\n" NODE0,
     E_PROMUSER},
    {"one replica may be promoted",
     NOREADS NODE0 REPLICA1 "promote = never\n[node.r2]\nhost = h\n"
			    "port = 2\n",
     E_PROMUSER},
    {"a never-promote master does not matter", NOREADS NODE0 "promote = never\n" REPLICA1,
     E_PROMUSER},
    {"replica with weight 0 and priority 0", NOREADS NODE0 REPLICA1 "weight = 0\npriority = 0\n",
     E_PROMUSER},
    /* monitor_user is asked for first: it would do for both */
    {"monitor_user first", "[pgrelay]\nauth_type = trust\n" NODE0 REPLICA1, E_MONUSER},
    /* a value error is reported rather than the missing promote_user */
    {"value error first", NOREADS NODE0 REPLICA1 "[pgrelay]\nfailover_after = 0\n",
     "test.ini:13: key 'failover_after': expected an integer from 1 to 100, got '0'"},
};

Test(config, promote_user_required)
{
	for (size_t i = 0; i < ARRAY_SIZE(promote_user_errors); i++)
		expect_error(promote_user_errors[i].what, promote_user_errors[i].text,
			     promote_user_errors[i].msg);
}

Test(config, promote_user_not_required)
{
	static const char *const ok[][2] = {
	    {"monitor_user set", NOREADS "monitor_user = mon\n" NODE0 REPLICA1},
	    {"monitor_user set, route_reads on",
	     "[pgrelay]\nauth_type = trust\nmonitor_user = mon\n" NODE0 REPLICA1},
	    {"promote_user set", NOREADS "promote_user = admin\n" NODE0 REPLICA1},
	    {"promote_user in a later [pgrelay] section",
	     NOREADS NODE0 REPLICA1 "[pgrelay]\npromote_user = admin\n"},
	    {"failover = off", NOREADS "failover = off\n" NODE0 REPLICA1},
	    {"failover = off, after the nodes", NOREADS NODE0 REPLICA1 "[pgrelay]\nfailover = 0\n"},
	    {"no replica", NOREADS NODE0},
	    {"no replica, route_reads on", "[pgrelay]\nauth_type = trust\n" NODE0},
	    {"no replica, never-promote master", NOREADS NODE0 "promote = never\n"},
	    {"every replica promote = never", NOREADS NODE0 REPLICA1
	     "promote = never\n[node.r2]\nhost = h\nport = 2\npromote = never\n"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		Config *cfg = load(ok[i][1]);

		cr_expect_not_null(cfg, "%s: %s", ok[i][0], errbuf);
		config_free(cfg);
	}
}

Test(config, names)
{
	cr_expect_str_eq(auth_type_name(AUTH_SCRAM), "scram-sha-256");
	cr_expect_str_eq(auth_type_name(AUTH_MD5), "md5");
	cr_expect_str_eq(auth_type_name(AUTH_TRUST), "trust");
	cr_expect_str_eq(auth_type_name(AUTH__COUNT), "?");
	cr_expect_str_eq(node_role_name(ROLE_MASTER), "master");
	cr_expect_str_eq(node_role_name(ROLE_REPLICA), "replica");
	cr_expect_str_eq(node_role_name(ROLE__COUNT), "?");
}

/* ---- files and auth_file resolution -------------------------------------------- */

Test(config, auth_file_resolution)
{
	static const char *const cases[][3] = {
	    /* config name, auth_file, expected */
	    {"/etc/pgrelay/proxy.ini", "users.txt", "/etc/pgrelay/users.txt"},
	    {"/etc/pgrelay/proxy.ini", "sub/users.txt", "/etc/pgrelay/sub/users.txt"},
	    {"/etc/pgrelay/proxy.ini", "../users.txt", "/etc/pgrelay/../users.txt"},
	    {"/etc/pgrelay/proxy.ini", "/var/lib/users.txt", "/var/lib/users.txt"},
	    {"conf/proxy.ini", "users.txt", "conf/users.txt"},
	    {"/proxy.ini", "users.txt", "/users.txt"},
	    {"proxy.ini", "users.txt", "users.txt"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[512];
		Config *cfg;

		snprintf(text, sizeof(text), "[pgrelay]\nauth_file = %s\n" NODE0, cases[i][1]);
		cfg = config_load_string(cases[i][0], text, errbuf, sizeof(errbuf));
		cr_assert_not_null(cfg, "%s", errbuf);
		cr_expect_str_eq(cfg->auth_file, cases[i][2], "%s + %s", cases[i][0], cases[i][1]);
		cr_expect_str_eq(cfg->path, cases[i][0]);
		config_free(cfg);
	}
}

Test(config, auth_file_resolution_too_long)
{
	char name[1100], text[512], err[2048];
	Config *cfg;

	memset(name, 'd', sizeof(name));
	name[0] = '/';
	strcpy(name + 1000, "/proxy.ini");
	snprintf(text, sizeof(text),
		 "[pgrelay]\nauth_file = 0123456789012345678901234567890\n" NODE0);
	cfg = config_load_string(name, text, err, sizeof(err));
	cr_expect_null(cfg);
	config_free(cfg);
	cr_expect(strstr(err, "/proxy.ini:2: key 'auth_file': longer than 1023 characters "
			      "once made relative to /ddd") != NULL,
		  "%s", err);
}

/* state_file is resolved the way auth_file is; empty stays empty (no state file). */
Test(config, state_file_resolution)
{
	static const char *const cases[][3] = {
	    /* config name, state_file, expected */
	    {"/etc/pgrelay/proxy.ini", "pgrelay.state", "/etc/pgrelay/pgrelay.state"},
	    {"/etc/pgrelay/proxy.ini", "../run/state", "/etc/pgrelay/../run/state"},
	    {"/etc/pgrelay/proxy.ini", "/var/lib/pgrelay/state", "/var/lib/pgrelay/state"},
	    {"/etc/pgrelay/proxy.ini", "", ""},
	    {"conf/proxy.ini", "state", "conf/state"},
	    {"/proxy.ini", "state", "/state"},
	    {"proxy.ini", "state", "state"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[512];
		Config *cfg;

		snprintf(text, sizeof(text),
			 "[pgrelay]\nauth_file = /users.txt\nstate_file = %s\n" NODE0, cases[i][1]);
		cfg = config_load_string(cases[i][0], text, errbuf, sizeof(errbuf));
		cr_assert_not_null(cfg, "%s", errbuf);
		cr_expect_str_eq(cfg->state_file, cases[i][2], "%s + %s", cases[i][0], cases[i][1]);
		cr_expect_str_eq(cfg->auth_file, "/users.txt");
		config_free(cfg);
	}
}

Test(config, state_file_resolution_too_long)
{
	char name[1100], text[512], err[2048];
	Config *cfg;

	memset(name, 'd', sizeof(name));
	name[0] = '/';
	strcpy(name + 1000, "/proxy.ini");
	snprintf(
	    text, sizeof(text),
	    "[pgrelay]\nauth_type = trust\n\nstate_file = 0123456789012345678901234567890\n" NODE0);
	cfg = config_load_string(name, text, err, sizeof(err));
	cr_expect_null(cfg);
	config_free(cfg);
	cr_expect(strstr(err, "/proxy.ini:4: key 'state_file': longer than 1023 characters "
			      "once made relative to /ddd") != NULL,
		  "%s", err);

	/* an absolute state_file is kept however long the name of the file is */
	snprintf(text, sizeof(text), "[pgrelay]\nauth_type = trust\nstate_file = /run/s\n" NODE0);
	cfg = config_load_string(name, text, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_str_eq(cfg->state_file, "/run/s");
	config_free(cfg);
}

Test(config, load_file, .init = tmp_setup, .fini = tmp_cleanup)
{
	const char *path = tmp_write_str(
	    "proxy.ini", "[pgrelay]\nauth_file = users.txt\nstate_file = run/state\n" NODE0);
	char expect[512];
	Config *cfg;

	cfg = config_load(path, errbuf, sizeof(errbuf));
	cr_assert_not_null(cfg, "%s", errbuf);
	snprintf(expect, sizeof(expect), "%s/users.txt", tmpdir);
	cr_expect_str_eq(cfg->auth_file, expect);
	snprintf(expect, sizeof(expect), "%s/run/state", tmpdir);
	cr_expect_str_eq(cfg->state_file, expect);
	cr_expect_str_eq(cfg->path, path);
	config_free(cfg);
}

Test(config, load_file_errors, .init = tmp_setup, .fini = tmp_cleanup)
{
	const char *path = tmp_write_str("bad.ini", "[pgrelay]\n\nlisten_port = 0\n");
	char expect[512];
	Config *cfg;

	cfg = config_load(path, errbuf, sizeof(errbuf));
	cr_expect_null(cfg);
	snprintf(expect, sizeof(expect),
		 "%s:3: key 'listen_port': expected an integer from 1 to 65535, got '0'", path);
	cr_expect_str_eq(errbuf, expect);

	path = tmp_write("nul.ini", "[pgrelay]\nauth_type = tr\0ust\n", 27);
	cfg = config_load(path, errbuf, sizeof(errbuf));
	cr_expect_null(cfg);
	snprintf(expect, sizeof(expect), "%s:2: line contains a NUL byte", path);
	cr_expect_str_eq(errbuf, expect);

	snprintf(expect, sizeof(expect), "%s/missing.ini", tmpdir);
	cfg = config_load(expect, errbuf, sizeof(errbuf));
	cr_expect_null(cfg);
	cr_expect(strstr(errbuf, "/missing.ini: cannot open: No such file or directory"), "%s",
		  errbuf);

	cfg = config_load(tmpdir, errbuf, sizeof(errbuf));
	cr_expect_null(cfg);
	snprintf(expect, sizeof(expect), "%s: cannot read: Is a directory", tmpdir);
	cr_expect_str_eq(errbuf, expect);
}

/* A tiny err buffer is truncated, never overrun; a NULL one is allowed. */
Test(config, small_error_buffer)
{
	char small[8];
	Config *cfg = config_load_string("test.ini", "[x]\n", small, sizeof(small));

	cr_expect_null(cfg);
	cr_expect_str_eq(small, "test.in");
	cfg = config_load_string("test.ini", "[x]\n", NULL, 0);
	cr_expect_null(cfg);
}

/* ---- auth file -------------------------------------------------------------------- */

Test(authfile, parse, .init = tmp_setup, .fini = tmp_cleanup)
{
	const char *path =
	    tmp_write_str("users.txt", "; PgBouncer-style userlist\n"
				       "# another comment\n"
				       "\n"
				       "\"zed\" \"md5a3556571e93b0d20722ba62be61e8c2d\"\n"
				       "  \"alice\"\t\"SCRAM-SHA-256$4096:c2FsdA==$a:b\"\n"
				       "\"bo\"\"b\" \"pa\"\"ss word\"\n"
				       "\"carol\" \"secret\"   ignored trailing fields\r\n"
				       "\"\"\"\" \"\"\"\"\n"
				       "   ; indented comment\n"
				       "\"dave\" \"x\"");
	AuthFile af;

	cr_assert(authfile_load(path, &af, errbuf, sizeof(errbuf)), "%s", errbuf);
	cr_assert_eq(af.n, 6);
	/* sorted by user (strcmp order) */
	cr_expect_str_eq(af.entries[0].user, "\"");
	cr_expect_str_eq(af.entries[1].user, "alice");
	cr_expect_str_eq(af.entries[2].user, "bo\"b");
	cr_expect_str_eq(af.entries[3].user, "carol");
	cr_expect_str_eq(af.entries[4].user, "dave");
	cr_expect_str_eq(af.entries[5].user, "zed");

	cr_expect_str_eq(authfile_find(&af, "alice")->secret, "SCRAM-SHA-256$4096:c2FsdA==$a:b");
	cr_expect_str_eq(authfile_find(&af, "bo\"b")->secret, "pa\"ss word");
	cr_expect_str_eq(authfile_find(&af, "carol")->secret, "secret");
	cr_expect_str_eq(authfile_find(&af, "\"")->secret, "\"");
	cr_expect_str_eq(authfile_find(&af, "dave")->secret, "x");
	cr_expect_str_eq(authfile_find(&af, "zed")->secret, "md5a3556571e93b0d20722ba62be61e8c2d");
	cr_expect_null(authfile_find(&af, "Alice"));
	cr_expect_null(authfile_find(&af, ""));
	cr_expect_null(authfile_find(&af, "zzz"));
	cr_expect_null(authfile_find(&af, "a"));
	authfile_free(&af);
	cr_expect_eq(af.n, 0);
	cr_expect_null(af.entries);
	authfile_free(&af);
}

Test(authfile, empty_and_many, .init = tmp_setup, .fini = tmp_cleanup)
{
	const char *path = tmp_write_str("empty.txt", "; nothing\n\n");
	static char text[300 * 32];
	size_t len = 0;
	AuthFile af;

	cr_assert(authfile_load(path, &af, errbuf, sizeof(errbuf)), "%s", errbuf);
	cr_expect_eq(af.n, 0);
	cr_expect_null(authfile_find(&af, "x"));
	authfile_free(&af);

	/* users written in reverse order are all found */
	for (int i = 299; i >= 0; i--)
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, "\"u%03d\" \"s%d\"\n", i, i);
	path = tmp_write_str("many.txt", text);
	cr_assert(authfile_load(path, &af, errbuf, sizeof(errbuf)), "%s", errbuf);
	cr_assert_eq(af.n, 300);
	for (int i = 0; i < 300; i++) {
		char user[16], secret[16];
		const AuthEntry *e;

		snprintf(user, sizeof(user), "u%03d", i);
		snprintf(secret, sizeof(secret), "s%d", i);
		e = authfile_find(&af, user);
		cr_assert_not_null(e, "%s", user);
		cr_expect_str_eq(e->secret, secret);
	}
	authfile_free(&af);
}

typedef struct AuthErrorCase {
	const char *what;
	const char *text;
	const char *msg; /* after "PATH:" */
} AuthErrorCase;

static const AuthErrorCase auth_errors[] = {
    {"unquoted user", "\"a\" \"b\"\nalice \"x\"\n", "2: expected a double-quoted user name"},
    {"quote inside the user name", "; c\n\"alice \"x\"\n",
     "2: expected a blank after the user name"},
    {"unterminated user at end of line", "\"alice\n", "1: missing closing quote in the user name"},
    {"no secret", "\"alice\"\n", "1: expected a double-quoted secret after user 'alice'"},
    {"no secret, trailing blanks", "\"alice\"   \n",
     "1: expected a double-quoted secret after user 'alice'"},
    {"unquoted secret", "\"alice\" secret\n",
     "1: expected a double-quoted secret after user 'alice'"},
    {"unterminated secret", "\n\n\"alice\" \"secret\n\"bob\" \"x\"\n",
     "3: missing closing quote in the secret of user 'alice'"},
    {"no blank between fields", "\"alice\"\"\"secret\"\n",
     "1: expected a blank after the user name"},
    {"text after the secret", "\"alice\" \"secret\"x\n",
     "1: expected a blank or the end of the line after the secret"},
    {"empty user", "\"\" \"secret\"\n", "1: empty user name"},
    {"empty secret", "\"alice\" \"\"\n", "1: empty secret for user 'alice'"},
    {"duplicate user", "\"bob\" \"1\"\n\"alice\" \"2\"\n; c\n\"bob\" \"3\"\n\"alice\" \"4\"\n",
     "4: duplicate user 'bob' (first on line 1)"},
    {"user too long",
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" \"x\"\n",
     "1: user name longer than 63 bytes"},
};

Test(authfile, errors, .init = tmp_setup, .fini = tmp_cleanup)
{
	for (size_t i = 0; i < ARRAY_SIZE(auth_errors); i++) {
		const char *path = tmp_write_str("bad.txt", auth_errors[i].text);
		char expect[512];
		AuthFile af = {.n = 99};

		ntmpfiles--; /* the same file is rewritten for each case */
		cr_expect_not(authfile_load(path, &af, errbuf, sizeof(errbuf)), "%s",
			      auth_errors[i].what);
		cr_expect_eq(af.n, 0);
		cr_expect_null(af.entries);
		snprintf(expect, sizeof(expect), "%s:%s", path, auth_errors[i].msg);
		cr_expect_str_eq(errbuf, expect, "%s:\n  got      \"%s\"\n  expected \"%s\"",
				 auth_errors[i].what, errbuf, expect);
	}
	ntmpfiles++;
}

Test(authfile, long_secret, .init = tmp_setup, .fini = tmp_cleanup)
{
	char text[1200], expect[512];
	const char *path;
	AuthFile af;

	strcpy(text, "\"alice\" \"");
	memset(text + 9, 's', 511);
	strcpy(text + 9 + 511, "\"\n");
	path = tmp_write_str("ok.txt", text);
	cr_assert(authfile_load(path, &af, errbuf, sizeof(errbuf)), "%s", errbuf);
	cr_expect_eq(strlen(authfile_find(&af, "alice")->secret), 511);
	authfile_free(&af);

	memset(text + 9, 's', 512);
	strcpy(text + 9 + 512, "\"\n");
	path = tmp_write_str("long.txt", text);
	cr_expect_not(authfile_load(path, &af, errbuf, sizeof(errbuf)));
	snprintf(expect, sizeof(expect), "%s:1: secret of user 'alice' longer than 511 bytes",
		 path);
	cr_expect_str_eq(errbuf, expect);
}

Test(authfile, file_errors, .init = tmp_setup, .fini = tmp_cleanup)
{
	const char *path = tmp_write("nul.txt", "\"a\" \"b\"\n\"c\" \"d\0\"\n", 17);
	char expect[512];
	AuthFile af;

	cr_expect_not(authfile_load(path, &af, errbuf, sizeof(errbuf)));
	snprintf(expect, sizeof(expect), "%s:2: line contains a NUL byte", path);
	cr_expect_str_eq(errbuf, expect);

	snprintf(expect, sizeof(expect), "%s/none.txt", tmpdir);
	cr_expect_not(authfile_load(expect, &af, errbuf, sizeof(errbuf)));
	cr_expect(strstr(errbuf, "/none.txt: cannot open: No such file or directory"), "%s",
		  errbuf);
}

Test(config, user_lists)
{
	static const struct {
		const char *list, *user;
		bool in;
	} cases[] = {
	    {"", "ops", false},		 {"ops", "ops", true},	     {"ops", "op", false},
	    {"ops", "opsx", false},	 {"a,ops", "ops", true},    {" a , ops ", "ops", true},
	    {"a,,b", "", false},	 {"alice, bob", "bob", true}, {"alice,bob", "Bob", false},
	    {",,,", "ops", false},	 {"a b", "a b", true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		cr_expect_eq(config_user_listed(cases[i].list, cases[i].user), cases[i].in,
			     "'%s' in '%s'", cases[i].user, cases[i].list);
}

Test(config, reloadable_keys)
{
	static const struct {
		const char *key;
		bool reload;
	} cases[] = {
	    {"listen_port", false}, {"listen_addr", false},   {"metrics_port", false},
	    {"state_file", false},  {"max_lag_bytes", true},  {"pool_size", true},
	    {"log_level", true},    {"admin_users", true},    {"failover", true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int k = config_key_find(cases[i].key);
		cr_assert_geq(k, 0, "%s", cases[i].key);
		cr_expect_eq(config_key_reloadable((size_t)k), cases[i].reload, "%s", cases[i].key);
	}
	cr_expect_eq(config_key_find("no_such_key"), -1);
	cr_expect_not(config_key_reloadable(100000));
}
