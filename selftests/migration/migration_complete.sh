#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Complete migration: B holds no image, so the image layer travels with the
# writable layer and the checkpoint. The restored service continues the
# counter with its memory and files, on an image with the same digest.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_complete
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_complete "criu missing (tools/setup/install-deps)"; exit 0; }

es_plan 10
MIG_IMAGE_MB=24
mig_setup complete || exit 1
es_expect_eq "B starts without the image" "$(find "$MIG_STATE_B/images" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" 0
code=$(mig_run_counter c2 --mem-mb 4 --write-kb 64)
es_expect_eq "container started on A" "$code" 200
mig_wait_service a
for seq in 1 2 3; do mig_request a "$seq" >/dev/null; done
rm "$(mig_rootfs a c2)/etc/es-image-file"
before=$(mig_check a)

mig_migrate --container c2 --to "$MIG_NODE_B" --mode complete --stop-source --json --wait-s 90 \
	>"$ES_TMP/mig.json" 2>"$ES_TMP/mig.err"
rc=$?
es_expect_eq "migrate exits 0" "$rc" 0
[ "$rc" = 0 ] || es_diag <"$ES_TMP/mig.err"
es_expect_eq "source stopped at once (--stop-source)" "$(jq -r .state "$ES_TMP/mig.json")" "done"
es_expect_eq "image sent" "$(jq -r .image_sent "$ES_TMP/mig.json")" true
es_check "image at B under the same digest" test -d "$MIG_STATE_B/images/$MIG_IMAGE/rootfs/opt/ballast"
after=$(mig_check b)
es_expect_eq "memory content restored" "$(jq -r .cksum <<<"$after")" "$(jq -r .cksum <<<"$before")"
es_expect_eq "restored service continues the counter" "$(mig_request b 4)" 4
if [ ! -e "$(mig_rootfs b c2)/etc/es-image-file" ]; then es_ok "whiteout carried in complete mode"
else es_not_ok "whiteout carried in complete mode"; fi
sent=$(jq '.objects.image.bytes' "$ES_TMP/mig.json"); raw=$(jq '.objects.image.raw_bytes' "$ES_TMP/mig.json")
es_expect_le "image compressed below its raw size" "$sent" "$raw"
jq -c '{migration_ms, image: .objects.image, phases: [.phases[] | {name, ms, bytes}]}' "$ES_TMP/mig.json" | es_diag
es_done
