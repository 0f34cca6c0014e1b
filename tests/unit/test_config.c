/*
 * test_config.c - unit tests for the configuration loader and the auth file
 * parser (proxy/config.c): a full file, defaults, every key type's good and
 * bad values, sections, nodes, [databases] mappings, exact error messages
 * with line numbers, relative auth_file resolution and userlist parsing.
 */
#include "config.h"

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
    "; pgrelay test configuration\n"				   /* 1 */
    "# hash comments too\n"					   /* 2 */
    "[pgrelay]\n"						   /* 3 */
    "listen_addr = 127.0.0.1, ::1 ,10.0.0.1\n"			   /* 4 */
    "listen_port = 7432\n"					   /* 5 */
    "auth_type = md5\n"						   /* 6 */
    "auth_file = /etc/pgrelay/userlist.txt\n"			   /* 7 */
    "pool_size = 7\n"						   /* 8 */
    "max_client_conn = 250\n"					   /* 9 */
    "max_message_size = 16MB\n"					   /* 10 */
    "connect_timeout = 2.5\n"					   /* 11 */
    "client_login_timeout = 15\n"				   /* 12 */
    "server_idle_timeout = 0\n"					   /* 13 */
    "client_idle_timeout = 3600\n"				   /* 14 */
    "query_wait_timeout = 0.25\n"				   /* 15 */
    "shutdown_timeout = 10 ; inline comment\n"			   /* 16 */
    "server_reset_query = RESET ALL\n"				   /* 17 */
    "log_level = debug\n"					   /* 18 */
    "\n"							   /* 19 */
    "[node.primary]\n"						   /* 20 */
    "host = 10.1.0.1\n"						   /* 21 */
    "port = 5432\n"						   /* 22 */
    "role = master\n"						   /* 23 */
    "[node.replica-1]\n"					   /* 24 */
    "host = db-replica.example\n"				   /* 25 */
    "port = 5433\n"						   /* 26 */
    "role = replica\n"						   /* 27 */
    "[node.r_2]\n"						   /* 28 */
    "port = 5434\n"						   /* 29 */
    "host = ::1\n"						   /* 30 */
    "[databases]\n"						   /* 31 */
    "app = dbname=app_prod user=app password=s3cret pool_size=5\n" /* 32 */
    "quoted = user='my user' password='it''s a secret'\n"	   /* 33 */
    "empty =\n"							   /* 34 */
    "* = dbname=fallback\n";					   /* 35 */

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

	cr_assert_eq(cfg->nnodes, 3);
	cr_expect_str_eq(cfg->nodes[0].name, "primary");
	cr_expect_str_eq(cfg->nodes[0].host, "10.1.0.1");
	cr_expect_eq(cfg->nodes[0].port, 5432);
	cr_expect_eq(cfg->nodes[0].role, ROLE_MASTER);
	cr_expect_eq(cfg->nodes[0].line, 20);
	cr_expect_str_eq(cfg->nodes[1].name, "replica-1");
	cr_expect_str_eq(cfg->nodes[1].host, "db-replica.example");
	cr_expect_eq(cfg->nodes[1].port, 5433);
	cr_expect_eq(cfg->nodes[1].role, ROLE_REPLICA);
	cr_expect_eq(cfg->nodes[1].line, 24);
	cr_expect_str_eq(cfg->nodes[2].name, "r_2");
	cr_expect_str_eq(cfg->nodes[2].host, "::1");
	cr_expect_eq(cfg->nodes[2].port, 5434);
	cr_expect_eq(cfg->nodes[2].role, ROLE_REPLICA, "role defaults to replica");
	cr_expect_eq(config_master(cfg), &cfg->nodes[0]);

	cr_assert_eq(cfg->ndatabases, 4);
	db = config_find_database(cfg, "app");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->name, "app");
	cr_expect_str_eq(db->dbname, "app_prod");
	cr_expect_str_eq(db->user, "app");
	cr_expect_str_eq(db->password, "s3cret");
	cr_expect_eq(db->pool_size, 5);
	db = config_find_database(cfg, "quoted");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->dbname, "");
	cr_expect_str_eq(db->user, "my user");
	cr_expect_str_eq(db->password, "it's a secret");
	cr_expect_eq(db->pool_size, 0);
	db = config_find_database(cfg, "empty");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->name, "empty");
	cr_expect_str_eq(db->dbname, "");
	cr_expect_str_eq(db->user, "");
	cr_expect_str_eq(db->password, "");
	cr_expect_eq(db->pool_size, 0);
	db = config_find_database(cfg, "other");
	cr_assert_not_null(db);
	cr_expect_str_eq(db->name, "*");
	cr_expect_str_eq(db->dbname, "fallback");
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
	cr_expect_eq(cfg->ndatabases, 0);
	cr_expect_null(config_find_database(cfg, "app"));

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
	cr_expect_eq(checked, 15, "every [pgrelay] key is in proxy.ini.example");
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
#define E_SIZE "expected a size from 1kB to 1GB (bytes, or with a kB/MB/GB suffix), got "
#define E_CONN "expected a duration in seconds from 0.001 to 600, got "
#define E_IDLE "expected a duration in seconds from 0 to 2592000, got "
#define E_ADDR "expected numeric IPv4/IPv6 addresses or '*', got "
#define E_LIST "expected a comma-separated list of numeric IPv4/IPv6 addresses or '*', got "
#define E_LEVEL "expected error, warning, info or debug, got "

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
    {"unknown node key", "[pgrelay]\nauth_type = trust\n" NODE0 "weight = 2\n",
     "test.ini:7: key 'weight': unknown key in section [node.n0]"},
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
	size_t len = (size_t)snprintf(text, sizeof(text), "[pgrelay]\nauth_type = trust\n");

	for (int i = 0; i <= CFG_MAX_NODES; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[node.n%d]\nhost = 10.0.0.%d\nport = 5432\nrole = %s\n", i,
					i, i ? "replica" : "master");
	/* node n16 (the 17th) starts on line 3 + 16 * 4 */
	expect_error("17 nodes", text,
		     "test.ini:67: section 'node.n16': too many nodes (at most 16)");

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

/* ---- [databases] ---------------------------------------------------------------- */

#define DBHEAD "[pgrelay]\nauth_type = trust\n" NODE0 "[databases]\n" /* lines 1-7 */

static const ErrorCase database_errors[] = {
    {"unknown field", DBHEAD "app = db=x\n",
     "test.ini:8: key 'app': unknown field 'db' (expected dbname, user, password or "
     "pool_size)"},
    {"field names are case-sensitive", DBHEAD "app = DBNAME=x\n",
     "test.ini:8: key 'app': unknown field 'DBNAME' (expected dbname, user, password or "
     "pool_size)"},
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

Test(config, load_file, .init = tmp_setup, .fini = tmp_cleanup)
{
	const char *path = tmp_write_str("proxy.ini", "[pgrelay]\nauth_file = users.txt\n" NODE0);
	char expect[512];
	Config *cfg;

	cfg = config_load(path, errbuf, sizeof(errbuf));
	cr_assert_not_null(cfg, "%s", errbuf);
	snprintf(expect, sizeof(expect), "%s/users.txt", tmpdir);
	cr_expect_str_eq(cfg->auth_file, expect);
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
