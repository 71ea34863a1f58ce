#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Partial migration between two emulated nodes: only the writable layer
# and the CRIU checkpoint travel (B already holds the image). The restored
# service continues the counter from the checkpointed value, with the same
# memory content and files; the writable layer arrives exactly (a file
# deleted from the image stays deleted, an opaque directory stays opaque);
# the source runs until told to stop; both event logs tell every phase.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_partial
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_partial "criu missing (tools/setup/install-deps)"; exit 0; }

es_plan 20
mig_setup partial || exit 1
code=$(mig_run_counter c1 --mem-mb 8 --write-kb 256)
es_expect_eq "container started on A" "$code" 200
mig_wait_service a

got=""
for seq in 1 2 3 4 5; do got=$(mig_request a "$seq"); done
es_expect_eq "service on A counts" "$got" 5
# The writable layer: a whiteout, an opaque directory, a new file.
root=$(mig_rootfs a c1)
rm "$root/etc/es-image-file"
rm -rf "$root/srv/opaque" && mkdir "$root/srv/opaque" && echo three >"$root/srv/opaque/three"
echo hello >"$root/data/hello"
before=$(mig_check a)
sum_before=$(sha256sum "$root/data/ballast" | cut -d' ' -f1)

mig_migrate --container c1 --to "$MIG_NODE_B" --mode partial --json --wait-s 60 \
	>"$ES_TMP/mig.json" 2>"$ES_TMP/mig.err"
rc=$?
es_expect_eq "migrate exits 0" "$rc" 0
[ "$rc" = 0 ] || es_diag <"$ES_TMP/mig.err"
id=$(jq -r .id "$ES_TMP/mig.json")
es_expect_eq "state restored, source still running" "$(jq -r .state "$ES_TMP/mig.json")" restored
es_expect_eq "no image sent in partial mode" "$(jq -r .image_sent "$ES_TMP/mig.json")" false

after=$(mig_check b)
es_expect_eq "restored service continues the counter" "$(mig_request b 6)" 6
es_expect_eq "memory content restored" "$(jq -r .cksum <<<"$after")" "$(jq -r .cksum <<<"$before")"
es_expect_eq "memory checksum verifies at B" "$(jq -r .memory_intact <<<"$after")" true
rootb=$(mig_rootfs b c1)
es_expect_eq "ballast file intact" "$(sha256sum "$rootb/data/ballast" | cut -d' ' -f1)" "$sum_before"
es_expect_eq "journal carried" "$(wc -l <"$rootb/data/journal")" 6
if [ ! -e "$rootb/etc/es-image-file" ] && [ -e "$MIG_STATE_B/images/$MIG_IMAGE/rootfs/etc/es-image-file" ]; then
	es_ok "file deleted from the image layer stays deleted"
else
	es_not_ok "file deleted from the image layer stays deleted"
fi
es_expect_eq "opaque directory stays opaque" "$(find "$rootb/srv/opaque" -mindepth 1 -printf '%f ')" "three "
es_expect_eq "new file carried" "$(cat "$rootb/data/hello")" hello

es_expect_eq "source still answers before stop" "$(mig_request a 7)" 6
mig_migrate --stop-source-of "$id" --json >"$ES_TMP/stop.json" 2>&1
es_expect_eq "stop-source answers done" "$(jq -r .state "$ES_TMP/stop.json")" "done"
es_expect_eq "source stopped: no answer on A" "$(mig_request a 8)" lost
es_expect_eq "target keeps answering" "$(mig_request b 9)" 7

for ev in requested checkpoint_start checkpoint_end transfer_start transfer_end restore_start restore_end source_stopped; do
	grep -h "\"migration\":\"$id\"" "$ES_TMP/events-a.log" "$ES_TMP/events-b.log" | grep -q "\"event\":\"$ev\"" || missing="$missing $ev"
done
es_expect_eq "every phase in the event logs" "${missing:-none}" none
mig_migrate --merge-logs "$ES_TMP/events-a.log" "$ES_TMP/events-b.log" --id "$id" --json >"$ES_TMP/merged.json"
ms=$(jq '.migrations[0].migration_ms | floor' "$ES_TMP/merged.json")
es_expect_ge "migration time from the merged logs (ms)" "$ms" 1
es_expect_eq "target events logged by B" \
	"$(jq -r '[.migrations[0].events[] | select(.role == "target") | .node] | unique | join(",")' "$ES_TMP/merged.json")" "$MIG_NODE_B"
jq -c '{migration_ms: .migration_ms, phases: [.phases[] | {name, ms, bytes}]}' "$ES_TMP/mig.json" | es_diag
es_done
