/*
 * main.c - pgrelay's entry point: the command line, loading the config and
 * auth file, creating the loop, wiring the modules and signal watchers
 * together, then ev_run(). No logic of its own.
 */
#include "admin.h"
#include "client.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "funccache.h"
#include "monitor.h"
#include "maint.h"
#include "metrics.h"
#include "pool.h"
#include "reload.h"
#include "sdnotify.h"
#include "topology.h"

#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"pgrelay %s - read/write-splitting proxy for PostgreSQL\n\n"
		"Usage:\n"
		"  pgrelay -c FILE               run in the foreground, logging to stderr\n"
		"  pgrelay --check-config FILE   validate FILE (and its auth file); exit 0 or 1\n"
		"  pgrelay --help | --version\n\n"
		"Signals: SIGTERM stops accepting, lets running transactions finish\n"
		"(up to shutdown_timeout) and exits; SIGINT exits at once;\n"
		"SIGHUP reloads the configuration file; SIGUSR1 logs the routing counters.\n",
		PGRELAY_VERSION);
}

static void on_sigterm(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sdnotify_stopping();
	log_info("SIGTERM received");
	maint_begin_shutdown();
}

/* systemd's STATUS= line: the port and the current master. */
static void ready_status(char *buf, size_t len)
{
	snprintf(buf, len, "listening on port %d, master %s", reload_current()->listen_port,
		 topology_master() ? topology_master()->name : "none");
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	char msg[2048], status[256];

	(void)loop;
	(void)w;
	(void)revents;
	log_info("SIGHUP received: reloading %s", reload_current()->path);
	sdnotify_reloading();
	reload_file(msg, sizeof(msg)); /* logs what it did, or why not */
	ready_status(status, sizeof(status));
	sdnotify_ready(status);
}

static void on_sigusr1(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	client_log_route_stats();
	client_log_sessions();
}

static void on_sigint(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	sdnotify_stopping();
	log_info("SIGINT received: exiting at once");
	ev_break(loop, EVBREAK_ALL);
}

/* Loads the config and the auth file; exits 1 with a message on any error. */
static Config *load_all(const char *path, AuthFile *af)
{
	char err[1024];
	Config *cfg = config_load(path, err, sizeof(err));

	if (!cfg) {
		fprintf(stderr, "pgrelay: %s\n", err);
		exit(1);
	}
	memset(af, 0, sizeof(*af));
	if (cfg->auth_file[0] && !authfile_load(cfg->auth_file, af, err, sizeof(err))) {
		fprintf(stderr, "pgrelay: %s\n", err);
		exit(1);
	}
	if (!topology_init(cfg, err, sizeof(err))) {
		fprintf(stderr, "pgrelay: %s: %s\n", path, err);
		exit(1);
	}
	if (cfg->state_file[0]) {
		int r = topology_load_state(cfg->state_file, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "pgrelay: %s: %s\n", path, err);
			exit(1);
		}
		if (r > 0)
			log_warning(
			    "state file %s: %s is the master after a failover; fenced nodes "
			    "get nothing",
			    cfg->state_file, topology_master()->name);
	}
	return cfg;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *check_path = NULL;
	struct ev_loop *loop;
	ev_signal sigterm, sigint, sigusr1, sighup;
	AuthFile af;
	Config *cfg;
	char err[1024], status[256];
	int opt;

	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			check_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pgrelay %s\n", PGRELAY_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc || (!config_path && !check_path)) {
		usage(stderr);
		return 1;
	}
	log_init();
	if (check_path) {
		cfg = load_all(check_path, &af);
		printf("pgrelay: configuration file %s is valid\n", check_path);
		authfile_free(&af);
		config_free(cfg);
		topology_free();
		return 0;
	}

	cfg = load_all(config_path, &af);
	log_level = cfg->log_level;
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop)
		fatal("cannot initialise the event loop");

	pool_module_init(loop, cfg->server_reset_query,
			 &(PoolTimeouts){
			     .connect_timeout = cfg->connect_timeout,
			     .query_wait_timeout = cfg->query_wait_timeout,
			     .server_idle_timeout = cfg->server_idle_timeout,
			 });
	client_module_init(loop, cfg, &af);
	funccache_init(loop, cfg);
	monitor_set_listener(client_monitor_news);
	monitor_set_gate(&(MonitorGate){.hold = client_hold_master, .busy = client_master_busy});
	monitor_start(loop, cfg);
	if (!listener_start(loop, cfg, err, sizeof(err)))
		fatal("%s", err);
	maint_start(loop, cfg);
	if (!metrics_start(loop, cfg, err, sizeof(err)))
		fatal("metrics listener: %s", err);

	ev_signal_init(&sigterm, on_sigterm, SIGTERM);
	ev_signal_start(loop, &sigterm);
	ev_signal_init(&sigusr1, on_sigusr1, SIGUSR1);
	ev_signal_start(loop, &sigusr1);
	ev_signal_init(&sigint, on_sigint, SIGINT);
	ev_signal_start(loop, &sigint);
	ev_signal_init(&sighup, on_sighup, SIGHUP);
	ev_signal_start(loop, &sighup);
	reload_init(loop, cfg, &af); /* owns cfg and af from now on */
	admin_set_hooks(&(AdminHooks){.reload = reload_file, .set = reload_set});

	log_info("pgrelay %s started (pid %d), master %s", PGRELAY_VERSION, (int)getpid(),
		 topology_master() ? topology_master()->name : "none");
	ready_status(status, sizeof(status));
	sdnotify_init(loop);
	sdnotify_ready(status);
	ev_run(loop, 0);
	sdnotify_stop();

	listener_stop();
	metrics_stop();
	funccache_free();
	monitor_stop();
	reload_free();
	topology_free();
	return 0;
}
