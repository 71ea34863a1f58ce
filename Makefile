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
LDLIBS		:= $(LIBBPF_LIBS) -lmnl -ljansson -lmicrohttpd -lcurl -lpthread

BPF_OBJS	:= accounting xdp_pass bench_naive
SKELS		:= $(patsubst %,$(BUILD)/%.skel.h,$(BPF_OBJS))
LIB_SRCS	:= $(wildcard lib/*.c)
LIB_OBJS	:= $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
AGENT_SRCS	:= $(wildcard agent/*.c)
AGENT_OBJS	:= $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRCS))
TOOLS		:= edgeshift es-traffic es-flood es-bench-xdp
TOOL_BINS	:= $(patsubst %,$(BUILD)/%,$(TOOLS))
TEST_SRCS	:= $(wildcard selftests/test_*.c)
TEST_BINS	:= $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(TEST_SRCS))
BPF_HDRS	:= $(wildcard include/edgeshift/*.h bpf/lib/*.h)
HDRS		:= $(BPF_HDRS) $(wildcard lib/*.h agent/*.h)

.PHONY: all check demo drill bench install deps clean
all: $(BUILD)/edgeshiftd $(TOOL_BINS) $(TEST_BINS)

deps:
	bash tools/install-deps

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

$(BUILD)/lib/%.o: lib/%.c $(HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) -c $< -o $@

$(BUILD)/agent/%.o: agent/%.c $(HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) -c $< -o $@

$(BUILD)/edgeshiftd: $(AGENT_OBJS) $(LIB_OBJS)
	$(CC) $(ES_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/%: tools/%.c $(LIB_OBJS) $(HDRS) $(SKELS)
	$(CC) $(ES_CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS) -lm

$(BUILD)/selftests/%: selftests/%.c selftests/harness.h $(LIB_OBJS) $(HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) -Iselftests $< $(LIB_OBJS) -o $@ $(LDLIBS)

check: deps
	$(MAKE) all
	bash selftests/run.sh

demo: deps
	$(MAKE) all
	bash tools/demo.sh

bench: deps
	$(MAKE) all
	bash tools/bench.sh

install: all
	install -D -m 0755 $(BUILD)/edgeshiftd $(DESTDIR)$(PREFIX)/sbin/edgeshiftd
	install -D -m 0755 $(BUILD)/edgeshift $(DESTDIR)$(PREFIX)/bin/edgeshift

clean:
	rm -rf $(BUILD)

.SECONDARY:
