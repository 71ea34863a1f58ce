# SPDX-License-Identifier: GPL-2.0-only
# edgeshift: `make` builds everything, `make check` installs what is
# missing and runs every selftest, `make demo` runs the demonstration,
# `make bench` prints the measured ratios.

BUILD		?= build
PREFIX		?= /usr/local
CLANG		?= clang
BPFTOOL		?= bpftool
CC		?= gcc
ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS		?= -O2 -g
ES_CFLAGS	:= $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
		   -Iinclude -Ilib -I$(BUILD)
BPF_CFLAGS	:= -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
		   -Wall -Werror -Iinclude -I$(BUILD)
LIBBPF_LIBS	:= $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
LDLIBS		:= -Wl,--as-needed $(LIBBPF_LIBS) -lmnl -ljansson -lmicrohttpd -lcurl \
		   -lzstd -larchive -lcrypto -lyaml -lpthread -lm

BPF_OBJS	:= accounting xdp_pass bench_naive bench_acct bench_nocache bench_hash bench_defer bench_table bench_tblnc bench_floor bench_floor64 bench_floor128 \
		   migration \
		   peer_tcp
SKELS		:= $(patsubst %,$(BUILD)/%.skel.h,$(BPF_OBJS))
BPF_HDRS	:= $(wildcard include/edgeshift/*.h bpf/lib/*.h)

# Every user-space object records the headers it read (-MMD) and rebuilds
# when one of those changes, not when any header of the tree does. The
# skeletons are order-only: they must exist before the first compile, and
# the recorded dependencies take over from then on.
DEPFLAGS	= -MMD -MP -MF $(@:.o=.d)

# lib/: libedgeshift.a is what the product links; lib/testing/ is
# libestest.a, linked by tests, fixtures, benchmarks and drills only.
LIB_SRCS	:= $(filter-out lib/testing/%,$(wildcard lib/*/*.c))
LIB_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
TESTLIB_SRCS	:= $(wildcard lib/testing/*.c)
TESTLIB_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(TESTLIB_SRCS))
LIBES		:= $(BUILD)/libedgeshift.a
LIBESTEST	:= $(BUILD)/libestest.a

# Programs built from a directory of their own (and its subdirectories):
# DIR:BINARY. A directory joins the build once it holds a .c file.
PROG_DIRS	:= agent:edgeshiftd cli:edgeshift cni:edgeshift-cni scheduler:edgeshift-scheduler \
		   console:edgeshift-console
prog_srcs	= $(filter-out $(1)/fuzz/% $(1)/testing/%,$(wildcard $(1)/*.c $(1)/*/*.c))
PROGS		:= $(foreach p,$(PROG_DIRS),$(if $(call prog_srcs,$(firstword $(subst :, ,$p))),$p))
PROG_BINS	:= $(foreach p,$(PROGS),$(BUILD)/$(lastword $(subst :, ,$p)))

# tools/KIND/NAME.c is a single-file program build/NAME. Operator tools
# (ops/) are product and link libedgeshift.a alone; the other kinds
# (fixtures, bench, drill) may link the testing library too.
OPS_TOOLS	:= $(wildcard tools/ops/*.c)
TEST_TOOLS	:= $(filter-out tools/fixtures/es-counter.c,$(wildcard tools/fixtures/*.c tools/bench/*.c tools/drill/*.c))
TOOL_BINS	:= $(patsubst %.c,$(BUILD)/%,$(notdir $(OPS_TOOLS) $(TEST_TOOLS))) $(BUILD)/es-counter
TEST_SRCS	:= $(wildcard selftests/*/test_*.c)
TEST_BINS	:= $(patsubst %.c,$(BUILD)/selftests/%,$(notdir $(TEST_SRCS)))

# The agent's test build: the same objects, but the fault hook of
# agent/testing/ (reads $EDGESHIFTD_FAULT) instead of the product's stub
# that injects nothing. Only selftests and drills start it; never installed.
AGENT_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(call prog_srcs,agent))
FAULT_OBJS	:= $(filter-out $(BUILD)/agent/migration/mig_fault_off.o,$(AGENT_OBJS)) \
		   $(BUILD)/agent/testing/mig_fault.o

# The console's page (docs/console.md): console/ui/ and the chart library,
# which npm installs into the build directory at the version and checksum
# console/ui/package-lock.json pins; the browser loads it from the console.
# Built when npm is on PATH (tools/setup/install-deps installs it).
CONSOLE_UI_SRCS	:= $(filter-out %/package.json %/package-lock.json,$(wildcard console/ui/*))
CONSOLE_UI	:= $(if $(shell command -v npm 2>/dev/null),$(BUILD)/console-ui/.built)

.PHONY: all check demo drill bench install deps clean image console console-ui console-drill
all: $(PROG_BINS) $(BUILD)/edgeshiftd-faults $(TOOL_BINS) $(TEST_BINS) $(CONSOLE_UI)

console-ui: $(BUILD)/console-ui/.built

$(BUILD)/console-npm/.installed: console/ui/package.json console/ui/package-lock.json
	@mkdir -p $(@D)
	cp $^ $(@D)/
	cd $(@D) && npm ci --no-audit --no-fund --ignore-scripts >npm.log 2>&1 || \
		{ cat npm.log; echo "npm could not install the console's chart library"; exit 1; }
	touch $@

$(BUILD)/console-ui/.built: $(CONSOLE_UI_SRCS) $(BUILD)/console-npm/.installed
	@mkdir -p $(@D)
	cp $(CONSOLE_UI_SRCS) $(@D)/
	cp $(BUILD)/console-npm/node_modules/uplot/dist/uPlot.iife.min.js \
		$(BUILD)/console-npm/node_modules/uplot/dist/uPlot.min.css $(@D)/
	cp $(BUILD)/console-npm/node_modules/uplot/LICENSE $(@D)/uPlot.LICENSE
	touch $@

deps:
	bash tools/setup/install-deps

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	mv $@.tmp $@

$(BUILD)/%.tmp.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(BPF_HDRS)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: $(BUILD)/%.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp
	mv $@.tmp $@

# One rule for every user-space object: build/PATH.o from PATH.c.
$(BUILD)/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) $(DEPFLAGS) -c $< -o $@

# An archive is rebuilt when a member changes and also when the list of
# members does (a file moved to another library), which a member's time
# alone would not show: NAME.members is rewritten only when the list differs.
define archive_rule
$(1).members: FORCE
	@mkdir -p $$(@D)
	@echo '$(2)' | cmp -s - $$@ || echo '$(2)' > $$@

$(1): $(2) $(1).members
	rm -f $$@
	$$(AR) rcs $$@ $(2)
endef
$(eval $(call archive_rule,$(LIBES),$(LIB_OBJS)))
$(eval $(call archive_rule,$(LIBESTEST),$(TESTLIB_OBJS)))
.PHONY: FORCE
FORCE:

define prog_rules
$(BUILD)/$(2): $$(patsubst %.c,$(BUILD)/%.o,$$(call prog_srcs,$(1))) $$(LIBES)
	$$(CC) $$(ES_CFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(firstword $(subst :, ,$p)),$(lastword $(subst :, ,$p)))))

$(BUILD)/edgeshiftd-faults: $(FAULT_OBJS) $(LIBES)
	$(CC) $(ES_CFLAGS) $^ -o $@ $(LDLIBS)

define tool_rule
$(BUILD)/$(notdir $(basename $(1))): $(BUILD)/$(basename $(1)).o $(2)
	$$(CC) $$(ES_CFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach t,$(OPS_TOOLS),$(eval $(call tool_rule,$(t),$(LIBES))))
$(foreach t,$(filter-out tools/fixtures/es-events-emit.c tools/fixtures/es-front.c tools/fixtures/es-tier.c,$(TEST_TOOLS)),$(eval $(call tool_rule,$(t),$(LIBESTEST) $(LIBES))))

# es-events-emit drives the agent's events room alone: it links its objects.
EVENTS_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(wildcard agent/events/*.c))
$(BUILD)/es-events-emit: $(BUILD)/tools/fixtures/es-events-emit.o $(EVENTS_OBJS) $(LIBESTEST) $(LIBES)
	$(CC) $(ES_CFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/tools/fixtures/es-events-emit.o: ES_CFLAGS += -Iagent

# es-front, the advisor's HTTP front, frames requests with es-counter's parser.
$(BUILD)/es-front: $(BUILD)/tools/fixtures/es-front.o $(BUILD)/tools/fixtures/es-counter/http_req.o $(LIBESTEST) $(LIBES)
	$(CC) $(ES_CFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/tools/fixtures/es-front.o: ES_CFLAGS += -Itools/fixtures

# es-tier, the advisor's pipeline, keeps its connections in es-tier/conns.c.
$(BUILD)/es-tier: $(BUILD)/tools/fixtures/es-tier.o $(BUILD)/tools/fixtures/es-tier/conns.o $(LIBESTEST) $(LIBES)
	$(CC) $(ES_CFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/tools/fixtures/es-tier.o $(BUILD)/tools/fixtures/es-tier/conns.o: ES_CFLAGS += -Itools/fixtures

# C tests of the CNI plugin link its objects, all but main(); the test of
# es-counter's HTTP request parser links that file.
CNI_TEST_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(filter-out cni/main.c,$(wildcard cni/*.c)))
HTTP_REQ_OBJ	:= $(BUILD)/tools/fixtures/es-counter/http_req.o
define test_rule
$(BUILD)/selftests/$(notdir $(basename $(1))): $(BUILD)/$(basename $(1)).o $(if $(findstring test_cni_,$(1)),$(CNI_TEST_OBJS)) $(if $(findstring test_http_req,$(1)),$(HTTP_REQ_OBJ)) $(LIBESTEST) $(LIBES)
	$$(CC) $$(ES_CFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach t,$(TEST_SRCS),$(eval $(call test_rule,$(t))))
$(BUILD)/selftests/%.o: ES_CFLAGS += -Iselftests -Icni -Itools/fixtures
# The agent's rooms include each other's doors as "ROOM/door.h".
$(BUILD)/agent/%.o: ES_CFLAGS += -Iagent

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

check: deps
	$(MAKE) all
	bash selftests/run.sh

demo: deps
	$(MAKE) all
	bash tools/demo/demo.sh

# `make drill` runs the UDP, the TCP (es-counter), the Redis, the Redis with
# 100 connections opened while it moves, the Redis over IPv6, and the HTTP
# (es-counter --http with ab -k) scenario and prints each report;
# DRILL="PLAN [options]" runs one drill of your choice
DRILL_PLANS ?= tools/drill/plans/default.json tools/drill/plans/tcp.json tools/drill/plans/redis.json \
	       tools/drill/plans/redis-late.json tools/drill/plans/redis-ipv6.json \
	       tools/drill/plans/http.json
drill: deps
	$(MAKE) all
	@if [ -n "$(DRILL)" ]; then bash tools/drill/drill.sh $(DRILL); else \
		rc=0; for p in $(DRILL_PLANS); do bash tools/drill/drill.sh $$p || rc=1; done; \
		exit $$rc; fi

# `make console`: the web console on an emulated three-node site (CONSOLE_PORT, default 8080)
console: deps
	$(MAKE) all
	bash tools/demo/console.sh

# `make console-drill`: the console watching the migration drill's site (DRILL: its arguments)
console-drill: deps
	$(MAKE) all
	DRILL="$(DRILL)" bash tools/demo/console_drill.sh

bench: deps
	$(MAKE) all
	bash tools/bench/bench.sh

install: all
	install -D -m 0755 $(BUILD)/edgeshiftd $(DESTDIR)$(PREFIX)/sbin/edgeshiftd
	install -D -m 0755 $(BUILD)/edgeshift $(DESTDIR)$(PREFIX)/bin/edgeshift
	$(if $(wildcard cni/*.c),install -D -m 0755 $(BUILD)/edgeshift-cni $(DESTDIR)/opt/cni/bin/edgeshift-cni)
	$(if $(wildcard scheduler/*.c),install -D -m 0755 $(BUILD)/edgeshift-scheduler $(DESTDIR)$(PREFIX)/sbin/edgeshift-scheduler)
	install -D -m 0755 $(BUILD)/edgeshift-console $(DESTDIR)$(PREFIX)/bin/edgeshift-console
	$(if $(CONSOLE_UI),install -d $(DESTDIR)$(PREFIX)/share/edgeshift/console-ui && \
		install -m 0644 $(filter-out %/.built,$(wildcard $(BUILD)/console-ui/*)) \
		$(DESTDIR)$(PREFIX)/share/edgeshift/console-ui/)

# The agent's container image, from this machine's Debian packages only
# (tools/image/build.sh): into the local containers storage under the name
# deploy/edgeshiftd-daemonset.yaml runs, and as an OCI archive for nodes.
image: all
	bash tools/image/build.sh --build $(BUILD) --archive $(BUILD)/edgeshiftd-image.tar

clean:
	rm -rf $(BUILD)

.SECONDARY:

# The migration drills' service runs inside busybox containers: static, libc
# only, so of lib/ it takes the option table parser, the clock and the
# address parser alone.
ES_COUNTER_SRCS	:= tools/fixtures/es-counter.c tools/fixtures/es-counter/http_req.c lib/tool/opts.c \
		   lib/util/clock.c lib/util/sockaddr.c
$(BUILD)/es-counter: $(ES_COUNTER_SRCS) lib/tool/opts.h lib/util/clock.h lib/util/sockaddr.h \
		     tools/fixtures/es-counter/http_req.h
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) -static $(ES_COUNTER_SRCS) -o $@

# libFuzzer harness of edgeshift-cni's config parser; FUZZ_SECS bounds the run.
FUZZ_SECS	?= 600
CNI_FUZZ_SRCS	:= cni/fuzz/fuzz_conf.c cni/cni_conf.c cni/cni_env.c cni/cni_version.c cni/cni_error.c \
		   cni/ipam_http_conf.c
.PHONY: fuzz-cni
fuzz-cni: $(BUILD)/fuzz_cni_conf
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_cni_conf -max_total_time=$(FUZZ_SECS) -max_len=4096 $(BUILD)/fuzz-corpus cni/fuzz/corpus
$(BUILD)/fuzz_cni_conf: $(CNI_FUZZ_SRCS)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Ilib -Icni \
		$(CNI_FUZZ_SRCS) -o $@ -ljansson
