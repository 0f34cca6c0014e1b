# pgrelay - read/write-splitting PostgreSQL proxy.
# Targets: all (default), check (unit tests), test (everything CI runs),
# asan, valgrind, fuzz, deps, demo, demo-stop, bench, classify-oracle, bench-classify,
# format, clean.

CC      ?= cc
CFLAGS  ?= -O2 -g
PG_INCLUDEDIR := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
override CFLAGS  += -I$(PG_INCLUDEDIR) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla -Iproxy -Ireplication
override LDLIBS  += -lev -lpq -linih -lssl -lcrypto -pthread
BUILD   ?= build

PROXY_SRCS = proxy/log.c proxy/buf.c proxy/pgproto.c proxy/config.c proxy/authfile.c proxy/auth.c \
             proxy/conn.c proxy/server.c proxy/pool.c proxy/client.c proxy/client_login.c proxy/client_pump.c proxy/client_wait.c proxy/cancel.c \
             proxy/listener.c proxy/sock.c proxy/maint.c proxy/main.c proxy/balance.c proxy/session.c proxy/classify.c proxy/sqllex.c \
             proxy/router.c proxy/client_route.c proxy/funccache.c \
             proxy/events.c proxy/stats.c proxy/reload.c proxy/admin.c proxy/metrics.c proxy/http.c proxy/sdnotify.c
REPL_SRCS  = replication/topology.c replication/pgconn.c replication/lag.c replication/monitor.c \
             replication/election.c replication/failover.c replication/statefile.c replication/hook.c
SRCS       = $(PROXY_SRCS) $(REPL_SRCS)
OBJS       = $(SRCS:%.c=$(BUILD)/%.o)

# Unit tests: each links only the pure modules it tests.
UNIT_TESTS = test_pgproto test_config test_auth test_balance test_session test_classify test_router \
             test_lag test_election test_failover test_statefile test_hook test_http test_sdnotify test_events
test_pgproto_OBJS = proxy/log.c proxy/buf.c proxy/pgproto.c
test_config_OBJS  = proxy/log.c proxy/config.c proxy/authfile.c
test_auth_OBJS    = proxy/log.c proxy/auth.c proxy/buf.c
test_classify_OBJS = proxy/log.c proxy/classify.c proxy/sqllex.c
test_balance_OBJS = proxy/log.c proxy/balance.c
test_session_OBJS = proxy/log.c proxy/buf.c proxy/session.c
test_router_OBJS = proxy/log.c proxy/router.c proxy/classify.c proxy/sqllex.c
test_lag_OBJS    = proxy/log.c replication/lag.c
test_election_OBJS = proxy/log.c replication/lag.c replication/election.c
test_failover_OBJS = proxy/log.c replication/lag.c replication/election.c replication/failover.c
test_statefile_OBJS = proxy/log.c replication/statefile.c
test_hook_OBJS   = proxy/log.c replication/hook.c
test_http_OBJS   = proxy/log.c proxy/sock.c proxy/http.c
test_sdnotify_OBJS = proxy/log.c proxy/sdnotify.c
test_events_OBJS = proxy/log.c proxy/events.c

.PHONY: all check test test-integration test-regress asan valgrind fuzz deps demo demo-stop \
        bench format format-check clean

all: pgrelay

# copy + rename: replaces the file even while an old pgrelay is running
pgrelay: $(BUILD)/pgrelay
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/pgrelay: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJS:.o=.d)

# ---- unit tests (criterion) ------------------------------------------------
define unit_rule
$(BUILD)/tests/$(1): tests/unit/$(1).c $$($(1)_OBJS:%.c=$(BUILD)/%.o)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS) -lcriterion
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

check: $(UNIT_TESTS:%=$(BUILD)/tests/%)
	@set -e; for t in $^; do echo "== $$t"; $$t --jobs 2; done

# ---- everything CI runs ----------------------------------------------------
test: deps
	$(MAKE) all check
	$(MAKE) classify-oracle
	$(MAKE) test-integration
	$(MAKE) test-regress

# a test program for replication/pgconn.c, run by tests/integration/t_pgconn.sh
$(BUILD)/tests/pgconn_test: tests/integration/pgconn_test.c $(BUILD)/replication/pgconn.o $(BUILD)/proxy/log.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

test-integration: pgrelay $(BUILD)/tests/pgconn_test
	bash tests/integration/run.sh

test-regress: pgrelay
	bash tests/integration/regress.sh

# ---- sanitizers, valgrind, fuzzing -----------------------------------------
asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build/asan/pgrelay $(UNIT_TESTS:%=build/asan/tests/%)

valgrind: $(UNIT_TESTS:%=$(BUILD)/tests/%)
	@set -e; for t in $^; do valgrind -q --error-exitcode=1 --leak-check=full --trace-children=yes $$t --jobs 1; done

FUZZ_TARGETS = fuzz_pgproto fuzz_config fuzz_auth fuzz_classify fuzz_lsn fuzz_http
fuzz_pgproto_SRCS = proxy/log.c proxy/buf.c proxy/pgproto.c
fuzz_config_SRCS  = proxy/log.c proxy/config.c proxy/authfile.c
fuzz_auth_SRCS    = proxy/log.c proxy/buf.c proxy/auth.c
fuzz_classify_SRCS = proxy/log.c proxy/classify.c proxy/sqllex.c
fuzz_lsn_SRCS     = proxy/log.c replication/lag.c
fuzz_http_SRCS    = proxy/log.c proxy/sock.c proxy/http.c
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Iproxy -Ireplication -fsanitize=fuzzer,address,undefined

define fuzz_rule
build/fuzz/$(1): tests/fuzz/$(1).c $$($(1)_SRCS)
	@mkdir -p build/fuzz
	clang $$(FUZZ_CFLAGS) -o $$@ $$^ -lev -linih -lssl -lcrypto
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

# Builds every fuzzer and runs each for FUZZ_SECONDS (default 20) on its seed corpus.
FUZZ_SECONDS ?= 20
fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	@set -e; for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t; \
		build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-$$t tests/fuzz/corpus/$$t; done

# ---- packages, demo, benchmark ---------------------------------------------
deps:
	@bash tests/deps.sh

demo: deps
	$(MAKE) all
	@bash tests/demo.sh start

demo-stop:
	@bash tests/demo.sh stop

bench: pgrelay
	bash tests/bench/bench.sh

# ---- classifier: libpg_query oracle, micro-benchmark (need libpg-query-dev) --
# classify-oracle: every statement of ../shared/pgregress/sql judged by libpg_query's parse tree
# against classify_sql(); fails if the classifier calls a read what is not one.
# bench-classify: ns per classify_sql() call over the same statements (-O2; not part of test).
# Both link the classifier as test_classify does (test_classify_OBJS).
.PHONY: classify-oracle bench-classify
CLASSIFY_TEST_DEPS = tests/classify/extract.c tests/classify/pgjson.c tests/classify/extract.h \
                     tests/classify/pgjson.h proxy/classify.h

$(BUILD)/tests/classify/oracle: tests/classify/oracle.c $(CLASSIFY_TEST_DEPS) \
                               $(test_classify_OBJS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/classify -o $@ $(filter-out %.h,$^) -lpg_query

classify-oracle: $(BUILD)/tests/classify/oracle
	bash tests/classify/run_oracle.sh $<

$(BUILD)/bench/classify_bench: tests/bench/classify_bench.c $(CLASSIFY_TEST_DEPS) $(test_classify_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O2 -Itests/classify -o $@ $(filter-out %.h,$^) -lpg_query

bench-classify: $(BUILD)/bench/classify_bench
	$< $${PGREGRESS_DIR:-../shared/pgregress}/sql

format:
	clang-format -i proxy/*.[ch] replication/*.[ch] tests/unit/*.c tests/fuzz/*.c tests/integration/*.c

format-check:
	clang-format --dry-run --Werror proxy/*.[ch] replication/*.[ch]

clean:
	rm -rf build pgrelay

# ---- install / uninstall (PREFIX, DESTDIR) -----------------------------------
# `make install` copies the binary, the systemd unit (deploy/pgrelay.service with BINDIR, SYSCONFDIR and DOCDIR),
# its sysusers.d/tmpfiles.d entries, the documentation and proxy.ini.example. Everything goes
# under $(DESTDIR) (for packaging). An existing $(SYSCONFDIR)/pgrelay/proxy.ini is never
# overwritten; the example is always refreshed next to it. Configuration lives in /etc even
# when PREFIX=/usr/local: a system service reads its configuration from /etc (FHS, Debian
# policy). Unit, sysusers.d and tmpfiles.d files go where systemd reads them: below PREFIX for
# PREFIX=/usr/local or /usr (systemd reads /usr/local/lib/systemd/system, sysusers.d and
# tmpfiles.d: see `systemd-analyze unit-paths`), in /etc otherwise (/opt/... is not read).
# Installing to the live system as root (no DESTDIR) also creates the user and directories
# and reloads systemd when systemd runs; otherwise it prints the commands to run.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DOCDIR     ?= $(PREFIX)/share/doc/pgrelay
ifneq ($(filter /usr /usr/local,$(patsubst %/,%,$(PREFIX))),)
SYSTEMD_LIBDIR = $(PREFIX)/lib
else
SYSTEMD_LIBDIR = /etc
endif
SYSTEMDUNITDIR ?= $(SYSTEMD_LIBDIR)/systemd/system
SYSUSERSDIR    ?= $(SYSTEMD_LIBDIR)/sysusers.d
TMPFILESDIR    ?= $(SYSTEMD_LIBDIR)/tmpfiles.d
INSTALL    ?= install

CONFDIR   = $(SYSCONFDIR)/pgrelay
DOC_FILES = README.md proxy.ini.example deploy/rejoin.sh deploy/grafana-dashboard.json
# true when installing to the running system as root under systemd
LIVE_SYSTEMD = [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && [ -d /run/systemd/system ]

.PHONY: install uninstall

install: pgrelay
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -d -m 0750 $(DESTDIR)$(CONFDIR)
	$(INSTALL) -m 0755 pgrelay $(DESTDIR)$(BINDIR)/pgrelay
	sed -e 's|=/usr/local/bin/pgrelay |=$(BINDIR)/pgrelay |' -e 's| /etc/pgrelay/| $(SYSCONFDIR)/pgrelay/|' \
		-e 's|file:/usr/local/share/doc/pgrelay/|file:$(DOCDIR)/|' \
		deploy/pgrelay.service >$(DESTDIR)$(SYSTEMDUNITDIR)/pgrelay.service.tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/pgrelay.service.tmp
	mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/pgrelay.service.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/pgrelay.service
	$(INSTALL) -m 0644 deploy/pgrelay.sysusers $(DESTDIR)$(SYSUSERSDIR)/pgrelay.conf
	$(INSTALL) -m 0644 deploy/pgrelay.tmpfiles $(DESTDIR)$(TMPFILESDIR)/pgrelay.conf
	$(INSTALL) -m 0644 $(filter-out %.sh,$(DOC_FILES)) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0755 $(filter %.sh,$(DOC_FILES)) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 proxy.ini.example $(DESTDIR)$(CONFDIR)/proxy.ini.example
	@set -e; conf=$(DESTDIR)$(CONFDIR)/proxy.ini; new=no; \
	if [ -e "$$conf" ]; then \
		echo "kept the existing $$conf (compare it with proxy.ini.example next to it)"; \
	else \
		echo "$(INSTALL) -m 0640 proxy.ini.example $$conf"; \
		$(INSTALL) -m 0640 proxy.ini.example "$$conf"; new=yes; \
		echo "edit $$conf (nodes, auth_file, state_file = /var/lib/pgrelay/state) before starting pgrelay"; \
	fi; \
	if $(LIVE_SYSTEMD); then \
		echo "systemd-sysusers $(SYSUSERSDIR)/pgrelay.conf"; systemd-sysusers $(SYSUSERSDIR)/pgrelay.conf; \
		echo "systemd-tmpfiles --create $(TMPFILESDIR)/pgrelay.conf"; \
		systemd-tmpfiles --create $(TMPFILESDIR)/pgrelay.conf; \
		if [ $$new = yes ]; then echo "chgrp pgrelay $$conf"; chgrp pgrelay "$$conf"; fi; \
		echo "systemctl daemon-reload"; systemctl daemon-reload; \
		echo "start it with: systemctl enable --now pgrelay"; \
	else \
		echo "systemd steps skipped (DESTDIR set, not root, or systemd not running); as root on the target run:"; \
		echo "  systemd-sysusers $(SYSUSERSDIR)/pgrelay.conf"; \
		echo "  systemd-tmpfiles --create $(TMPFILESDIR)/pgrelay.conf"; \
		if [ $$new = yes ]; then echo "  chgrp pgrelay $(CONFDIR)/proxy.ini"; fi; \
		echo "  systemctl daemon-reload && systemctl enable --now pgrelay"; \
	fi

uninstall:
	@if $(LIVE_SYSTEMD) && [ -e $(SYSTEMDUNITDIR)/pgrelay.service ]; then \
		echo "systemctl disable --now pgrelay.service"; systemctl disable --now pgrelay.service || true; \
	fi
	rm -f $(DESTDIR)$(BINDIR)/pgrelay $(DESTDIR)$(SYSTEMDUNITDIR)/pgrelay.service \
		$(DESTDIR)$(SYSUSERSDIR)/pgrelay.conf $(DESTDIR)$(TMPFILESDIR)/pgrelay.conf \
		$(DESTDIR)$(CONFDIR)/proxy.ini.example $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOC_FILES)))
	@for d in $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR); do \
		if [ -d "$$d" ]; then rmdir --ignore-fail-on-non-empty "$$d"; fi; \
	done
	@if $(LIVE_SYSTEMD); then echo "systemctl daemon-reload"; systemctl daemon-reload; fi
	@for f in $(DESTDIR)$(CONFDIR)/proxy.ini $(DESTDIR)/var/lib/pgrelay; do \
		if [ -e "$$f" ]; then echo "kept $$f (remove it by hand if no longer needed)"; fi; \
	done
	@echo "the pgrelay user and group, if created, were kept (userdel pgrelay to remove them)"
