/*
 * reload.c - live reload behind reload.h: parse and validate the new
 * configuration and auth file, keep the restart-only keys, apply the node
 * changes to the topology, then point every module at the new
 * configuration and free the old one.
 */
#include "reload.h"

#include "client.h"
#include "events.h"
#include "funccache.h"
#include "log.h"
#include "maint.h"
#include "monitor.h"
#include "pool.h"
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELOAD_MAX_SETS 64

static struct {
	struct ev_loop *loop;
	Config *cfg;
	AuthFile af;
	char *text; /* the file as last applied: SET re-parses it */
	size_t len;
	/* SET values since the last reload of the file */
	size_t nsets;
	char set_key[RELOAD_MAX_SETS][64];
	char set_value[RELOAD_MAX_SETS][1024];
} R;

void reload_init(struct ev_loop *loop, Config *cfg, AuthFile *af)
{
	char err[256];

	R.loop = loop;
	R.cfg = cfg;
	R.af = *af;
	R.text = config_read_file(cfg->path, &R.len, err, sizeof(err));
	if (!R.text)
		log_warning("reload: %s (SET will not work until a reload)", err);
}

const Config *reload_current(void)
{
	return R.cfg;
}

static void msg_add(char *msg, size_t cap, const char *s)
{
	size_t len = strlen(msg);

	if (len && len + 2 < cap) {
		msg[len++] = ';';
		msg[len++] = ' ';
		msg[len] = '\0';
	}
	snprintf(msg + len, cap - len, "%s", s);
}

/* Applies a validated configuration; takes ownership of nc and naf. */
static bool apply(Config *nc, AuthFile *naf, char *msg, size_t msglen)
{
	char err[512], notes[1024] = "";
	Config *old = R.cfg;
	AuthFile oldaf = R.af;
	bool removed_before[CFG_MAX_NODES];

	/* keys a running pgrelay cannot change keep their old values */
	for (size_t i = 0; config_key_at(nc, i, NULL, NULL, NULL, 0); i++) {
		const char *name;
		char line[256];
		if (config_key_reloadable(i) || config_key_same(old, nc, i))
			continue;
		config_key_at(nc, i, NULL, &name, NULL, 0);
		if (!config_key_copy(nc, old, i)) {
			snprintf(msg, msglen, "%s cannot keep its old value", name);
			goto refuse;
		}
		snprintf(line, sizeof(line),
			 "%s changed: it needs a restart (still in effect: the "
			 "old value)",
			 name);
		msg_add(notes, sizeof(notes), line);
	}
	for (size_t i = 0; i < topology_count() && i < CFG_MAX_NODES; i++)
		removed_before[i] = topology_node(i)->removed;
	if (!topology_reload(nc, err, sizeof(err), notes, sizeof(notes))) {
		snprintf(msg, msglen, "%s", err);
		goto refuse;
	}
	R.cfg = nc;
	R.af = *naf;
	log_level = nc->log_level;
	client_reconfigure(nc, &R.af);
	funccache_init(R.loop, nc);
	maint_set_config(nc);
	pool_module_init(R.loop, nc->server_reset_query,
			 &(PoolTimeouts){
			     .connect_timeout = nc->connect_timeout,
			     .query_wait_timeout = nc->query_wait_timeout,
			     .server_idle_timeout = nc->server_idle_timeout,
			 });
	monitor_reconfigure(nc);
	for (size_t i = 0; i < topology_count() && i < CFG_MAX_NODES; i++) {
		const Node *n = topology_node(i);
		if (n->removed && (i >= ARRAY_SIZE(removed_before) || !removed_before[i]))
			pool_close_node_idle(n, "removed from the configuration");
	}
	config_free(old);
	authfile_free(&oldaf);
	client_monitor_news(); /* held reads look at the new limits and nodes */
	snprintf(msg, msglen, "%s", notes[0] ? notes : "configuration reloaded");
	return true;
refuse:
	config_free(nc);
	authfile_free(naf);
	return false;
}

/* Parses text with the SET values (plus key = value when key is not NULL). */
static bool load_and_apply(const char *text, size_t len, const char *key, const char *value,
			   char *msg, size_t msglen)
{
	CfgOverride ov[RELOAD_MAX_SETS + 1];
	size_t n = 0;
	char err[1024];
	AuthFile af;
	Config *nc;

	for (size_t i = 0; i < R.nsets; i++)
		if (!key || strcmp(R.set_key[i], key) != 0)
			ov[n++] = (CfgOverride){R.set_key[i], R.set_value[i]};
	if (key)
		ov[n++] = (CfgOverride){key, value};
	nc = config_load_text(R.cfg->path, text, len, ov, n, err, sizeof(err));
	if (!nc) {
		snprintf(msg, msglen, "%s", err);
		return false;
	}
	memset(&af, 0, sizeof(af));
	if (nc->auth_file[0] && !authfile_load(nc->auth_file, &af, err, sizeof(err))) {
		snprintf(msg, msglen, "%s", err);
		config_free(nc);
		return false;
	}
	return apply(nc, &af, msg, msglen);
}

bool reload_file(char *msg, size_t msglen)
{
	char err[512];
	size_t len;
	char *text = config_read_file(R.cfg->path, &len, err, sizeof(err));
	size_t nsets = R.nsets;
	bool ok;

	if (!text) {
		snprintf(msg, msglen, "%s", err);
		log_error("reload refused, the old configuration stays: %s", msg);
		return false;
	}
	R.nsets = 0; /* a reload of the file drops the SET values */
	ok = load_and_apply(text, len, NULL, NULL, msg, msglen);
	if (!ok) {
		R.nsets = nsets;
		free(text);
		log_error("reload refused, the old configuration stays: %s", msg);
		return false;
	}
	free(R.text);
	R.text = text;
	R.len = len;
	event_add(LOG_WARNING, "config_reloaded", NULL, "%s: %s", R.cfg->path, msg);
	return true;
}

bool reload_set(const char *key, const char *value, char *msg, size_t msglen)
{
	int k = config_key_find(key);
	size_t slot;

	if (k < 0) {
		snprintf(msg, msglen, "unknown key \"%s\"", key);
		return false;
	}
	if (!config_key_reloadable((size_t)k)) {
		snprintf(msg, msglen,
			 "%s cannot change while pgrelay runs: edit proxy.ini and restart", key);
		return false;
	}
	if (!R.text) {
		snprintf(msg, msglen,
			 "the configuration file could not be read at the start: RELOAD first");
		return false;
	}
	if (strlen(value) >= sizeof(R.set_value[0])) {
		snprintf(msg, msglen, "value too long");
		return false;
	}
	if (!load_and_apply(R.text, R.len, key, value, msg, msglen))
		return false;
	for (slot = 0; slot < R.nsets; slot++)
		if (strcmp(R.set_key[slot], key) == 0)
			break;
	if (slot == R.nsets && R.nsets < RELOAD_MAX_SETS)
		R.nsets++;
	if (slot < RELOAD_MAX_SETS) {
		snprintf(R.set_key[slot], sizeof(R.set_key[slot]), "%s", key);
		snprintf(R.set_value[slot], sizeof(R.set_value[slot]), "%s", value);
	}
	log_warning("SET %s = %s", key, strstr(key, "password") ? "********" : value);
	snprintf(msg, msglen, "%s = %s until the next reload of %s", key,
		 strstr(key, "password") ? "********" : value, R.cfg->path);
	return true;
}

void reload_free(void)
{
	authfile_free(&R.af);
	config_free(R.cfg);
	free(R.text);
	memset(&R, 0, sizeof(R));
}
