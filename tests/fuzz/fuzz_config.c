/*
 * fuzz_config.c - libFuzzer target for the configuration loader and the
 * auth file parser (proxy/config.c, proxy/authfile.c). Each input is loaded
 * as a config from memory (config_load_string) and from a file (config_load,
 * which also sees embedded NUL bytes), and as an auth file. Whatever loads is checked for
 * invariants, printed with config_key_at() and loaded again to check that
 * the printed values mean the same thing.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* A NUL inside the first cap bytes of a fixed-size field. */
#define CHECK_STR(field) CHECK(memchr((field), '\0', sizeof(field)) != NULL)

static char err[2048];

static void check_config(const Config *cfg)
{
	const CfgNode *master;
	size_t nmaster = 0;

	CHECK(cfg->path != NULL);
	CHECK(cfg->nlisten >= 1 && cfg->nlisten <= CFG_MAX_LISTEN);
	for (size_t i = 0; i < cfg->nlisten; i++)
		CHECK_STR(cfg->listen_addr[i]);
	CHECK(cfg->listen_port >= 1 && cfg->listen_port <= 65535);
	CHECK((unsigned)cfg->auth_type < AUTH__COUNT);
	CHECK_STR(cfg->auth_file);
	CHECK(cfg->auth_type == AUTH_TRUST || cfg->auth_file[0] != '\0');
	CHECK(cfg->pool_size >= 1);
	CHECK(cfg->max_client_conn >= 1);
	CHECK(cfg->max_message_size >= 1024);
	CHECK(cfg->connect_timeout > 0 && cfg->client_login_timeout > 0);
	CHECK(cfg->server_idle_timeout >= 0 && cfg->client_idle_timeout >= 0);
	CHECK(cfg->query_wait_timeout >= 0 && cfg->shutdown_timeout >= 0);
	CHECK_STR(cfg->server_reset_query);
	CHECK((unsigned)cfg->log_level < LOG__COUNT);

	CHECK(cfg->nnodes >= 1 && cfg->nnodes <= CFG_MAX_NODES);
	for (size_t i = 0; i < cfg->nnodes; i++) {
		const CfgNode *n = &cfg->nodes[i];

		CHECK_STR(n->name);
		CHECK_STR(n->host);
		CHECK(n->name[0] != '\0' && n->host[0] != '\0');
		CHECK(n->port >= 1 && n->port <= 65535);
		CHECK((unsigned)n->role < ROLE__COUNT);
		nmaster += n->role == ROLE_MASTER;
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(cfg->nodes[j].name, n->name) != 0);
	}
	CHECK(nmaster == 1);
	master = config_master(cfg);
	CHECK(master != NULL && master->role == ROLE_MASTER);

	CHECK(cfg->ndatabases <= CFG_MAX_DATABASES);
	for (size_t i = 0; i < cfg->ndatabases; i++) {
		const CfgDatabase *d = &cfg->databases[i];

		CHECK_STR(d->name);
		CHECK_STR(d->dbname);
		CHECK_STR(d->user);
		CHECK_STR(d->password);
		CHECK(d->pool_size >= 0);
		CHECK(config_find_database(cfg, d->name) == d);
	}
	if (config_find_database(cfg, "*"))
		CHECK(config_find_database(cfg, "\x01no such database") ==
		      config_find_database(cfg, "*"));
	else
		CHECK(config_find_database(cfg, "\x01no such database") == NULL);
}

/* Prints every key and loads the result again: the values must not change. */
static void check_round_trip(const Config *cfg)
{
	static char text[16384];
	char value[1100], value2[1100];
	const char *sec, *name;
	size_t len = 0;
	Config *again;

	len += (size_t)snprintf(text + len, sizeof(text) - len, "[pgrelay]\n");
	for (size_t i = 0; config_key_at(cfg, i, &sec, &name, value, sizeof(value)); i++) {
		CHECK(strcmp(sec, "pgrelay") == 0);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s=%s\n", name, value);
		CHECK(len < sizeof(text));
	}
	snprintf(text + len, sizeof(text) - len, "[node.n]\nhost=h\nport=1\nrole=master\n");
	again = config_load_string(cfg->path, text, err, sizeof(err));
	if (!again) {
		/* '*' printed as 0.0.0.0 may push a line over inih's limit */
		CHECK(strstr(err, "line is longer than") != NULL);
		return;
	}
	for (size_t i = 0; config_key_at(cfg, i, &sec, &name, value, sizeof(value)); i++) {
		CHECK(config_key_at(again, i, &sec, &name, value2, sizeof(value2)));
		CHECK(strcmp(value, value2) == 0);
	}
	config_free(again);
}

static void check_authfile(const AuthFile *af)
{
	for (size_t i = 0; i < af->n; i++) {
		const AuthEntry *e = &af->entries[i];

		CHECK_STR(e->user);
		CHECK_STR(e->secret);
		CHECK(e->user[0] != '\0' && e->secret[0] != '\0');
		if (i > 0)
			CHECK(strcmp(af->entries[i - 1].user, e->user) < 0);
		CHECK(authfile_find(af, e->user) == e);
	}
	CHECK(authfile_find(af, "\x01no such user") == NULL);
}

/* The input as a file: a memfd, reached through /proc/self/fd. */
static const char *input_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz_config", 0);
		CHECK(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	const char *path;
	Config *cfg;
	AuthFile af;

	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	cfg = config_load_string("fuzz.ini", text, err, sizeof(err));
	if (cfg) {
		check_config(cfg);
		check_round_trip(cfg);
		config_free(cfg);
	} else {
		CHECK(strncmp(err, "fuzz.ini", 8) == 0);
	}
	free(text);

	path = input_file(data, size);
	cfg = config_load(path, err, sizeof(err));
	if (cfg) {
		check_config(cfg);
		config_free(cfg);
	} else {
		CHECK(strncmp(err, path, strlen(path)) == 0);
	}

	if (authfile_load(path, &af, err, sizeof(err))) {
		check_authfile(&af);
		authfile_free(&af);
	} else {
		CHECK(af.n == 0 && af.entries == NULL);
		CHECK(strncmp(err, path, strlen(path)) == 0);
	}
	return 0;
}
