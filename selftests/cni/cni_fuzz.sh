#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A short libFuzzer run of edgeshift-cni's config parser (make fuzz-cni runs
# it longer): no crash, leak or sanitizer report. Skipped without clang's
# fuzzer runtime.
. "$(dirname "$0")/../lib.sh"
es_plan 1
SECS=${ES_CNI_FUZZ_SECS:-20}
# skipped only for want of the runtime: a fuzzer that does not build is a failure
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ return d && n && 0; }\n' \
	>"$ES_TMP/probe.c"
if ! "${CLANG:-clang}" -fsanitize=fuzzer,address,undefined -o "$ES_TMP/probe" "$ES_TMP/probe.c" \
	>/dev/null 2>&1; then
	es_skip "config parser fuzzed for ${SECS}s" "no clang with -fsanitize=fuzzer"
	es_done
fi
if ! make -s -C "$ES_ROOT" BUILD="$ES_BUILD" "$ES_BUILD/fuzz_cni_conf" >"$ES_TMP/build.log" 2>&1; then
	es_not_ok "config parser fuzzed for ${SECS}s" "the fuzzer did not build: $(tail -20 "$ES_TMP/build.log")"
	es_done
fi
mkdir -p "$ES_TMP/corpus"
if "$ES_BUILD/fuzz_cni_conf" -max_total_time="$SECS" -max_len=4096 -artifact_prefix="$ES_TMP/" \
	"$ES_TMP/corpus" "$ES_ROOT/cni/fuzz/corpus" >"$ES_TMP/fuzz.log" 2>&1; then
	es_ok "config parser fuzzed for ${SECS}s: $(grep -o 'Done [0-9]* runs' "$ES_TMP/fuzz.log")"
else
	es_not_ok "config parser fuzzed for ${SECS}s" "$(tail -30 "$ES_TMP/fuzz.log")"
fi
es_done
