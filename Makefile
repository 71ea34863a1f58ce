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

BPF_OBJS	:= accounting xdp_pass bench_naive migration peer_tcp
SKELS		:= $(patsubst %,$(BUILD)/%.skel.h,$(BPF_OBJS))
LIB_SRCS	:= $(wildcard lib/*.c)
LIB_OBJS	:= $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
# Programs built from a directory of their own: DIR:BINARY. A directory
# joins the build once it holds a .c file.
PROG_DIRS	:= agent:edgeshiftd cli:edgeshift cni:edgeshift-cni scheduler:edgeshift-scheduler
PROGS		:= $(foreach p,$(PROG_DIRS),$(if $(wildcard $(firstword $(subst :, ,$p))/*.c),$p))
PROG_BINS	:= $(foreach p,$(PROGS),$(BUILD)/$(lastword $(subst :, ,$p)))
# Every tools/NAME.c is a single-file program build/NAME.
TOOLS		:= $(patsubst tools/%.c,%,$(wildcard tools/*.c))
TOOL_BINS	:= $(patsubst %,$(BUILD)/%,$(TOOLS))
TEST_SRCS	:= $(wildcard selftests/test_*.c)
TEST_BINS	:= $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(TEST_SRCS))
BPF_HDRS	:= $(wildcard include/edgeshift/*.h bpf/lib/*.h)
HDRS		:= $(BPF_HDRS) $(wildcard lib/*.h $(foreach p,$(PROGS),$(firstword $(subst :, ,$p))/*.h))

.PHONY: all check demo drill bench install deps clean
all: $(PROG_BINS) $(TOOL_BINS) $(TEST_BINS)

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

define prog_rules
$(BUILD)/$(1)/%.o: $(1)/%.c $$(HDRS) $$(SKELS)
	@mkdir -p $$(@D)
	$$(CC) $$(ES_CFLAGS) -I$(1) -c $$< -o $$@

$(BUILD)/$(2): $$(patsubst $(1)/%.c,$(BUILD)/$(1)/%.o,$$(wildcard $(1)/*.c)) $$(LIB_OBJS)
	$$(CC) $$(ES_CFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(firstword $(subst :, ,$p)),$(lastword $(subst :, ,$p)))))

$(BUILD)/%: tools/%.c $(LIB_OBJS) $(HDRS) $(SKELS)
	$(CC) $(ES_CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

# C tests of the CNI plugin link its objects, all but main().
CNI_TEST_OBJS	:= $(patsubst cni/%.c,$(BUILD)/cni/%.o,$(filter-out cni/main.c,$(wildcard cni/*.c)))
$(BUILD)/selftests/test_cni_%: selftests/test_cni_%.c selftests/harness.h $(CNI_TEST_OBJS) $(LIB_OBJS) $(HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) -Iselftests -Icni $< $(CNI_TEST_OBJS) $(LIB_OBJS) -o $@ $(LDLIBS)

$(BUILD)/selftests/%: selftests/%.c selftests/harness.h $(LIB_OBJS) $(HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) -Iselftests $< $(LIB_OBJS) -o $@ $(LDLIBS)

check: deps
	$(MAKE) all
	bash selftests/run.sh

demo: deps
	$(MAKE) all
	bash tools/demo.sh

drill: deps
	$(MAKE) all
	bash tools/drill.sh $(DRILL)

bench: deps
	$(MAKE) all
	bash tools/bench.sh

install: all
	install -D -m 0755 $(BUILD)/edgeshiftd $(DESTDIR)$(PREFIX)/sbin/edgeshiftd
	install -D -m 0755 $(BUILD)/edgeshift $(DESTDIR)$(PREFIX)/bin/edgeshift
	$(if $(wildcard cni/*.c),install -D -m 0755 $(BUILD)/edgeshift-cni $(DESTDIR)/opt/cni/bin/edgeshift-cni)
	$(if $(wildcard scheduler/*.c),install -D -m 0755 $(BUILD)/edgeshift-scheduler $(DESTDIR)$(PREFIX)/sbin/edgeshift-scheduler)

clean:
	rm -rf $(BUILD)

.SECONDARY:

# The migration drills' service runs inside busybox containers: static, no lib/.
$(BUILD)/es-counter: tools/es-counter.c
	@mkdir -p $(@D)
	$(CC) $(ES_CFLAGS) -static $< -o $@

# libFuzzer harness of edgeshift-cni's config parser; FUZZ_SECS bounds the run.
FUZZ_SECS	?= 600
CNI_FUZZ_SRCS	:= cni/fuzz/fuzz_conf.c cni/cni_conf.c cni/cni_env.c cni/cni_version.c cni/cni_error.c
.PHONY: fuzz-cni
fuzz-cni: $(BUILD)/fuzz_cni_conf
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_cni_conf -max_total_time=$(FUZZ_SECS) -max_len=4096 $(BUILD)/fuzz-corpus cni/fuzz/corpus
$(BUILD)/fuzz_cni_conf: $(CNI_FUZZ_SRCS) $(HDRS)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Ilib -Icni \
		$(CNI_FUZZ_SRCS) -o $@ -ljansson
