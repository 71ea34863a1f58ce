#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The bundle (agent/migration/bundle.h): a migration sends its objects and
# its restore request in one PUT when the target says it takes bundles,
# and one request each when it does not (the test build's no_bundle, as an
# agent of an older version); both restore the service, and the target
# unpacks the layer and the checkpoint while they arrive either way.
# Bundles that break the format are refused (400; 404 for an unknown
# migration), restore nothing and keep no unfinished object; a wrong
# checksum fails the restore (422); a hostile layer is refused while it
# streams and nothing escapes.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_bundle
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_bundle "criu missing (tools/setup/install-deps)"; exit 0; }

es_plan 14
mig_setup partial || exit 1

# migrate NAME SEQ: start NAME on A, count to SEQ, migrate it to B (source stopped);
# "STATE COUNTER-AT-B"
migrate() {
	local seq
	mig_run_counter "$1" --mem-mb 4 --write-kb 64 >/dev/null
	mig_wait_service a
	for seq in $(seq "$2"); do mig_request a "$seq" >/dev/null; done
	mig_migrate --container "$1" --to "$MIG_NODE_B" --mode partial --stop-source --json \
		--wait-s 60 >"$ES_TMP/$1.json" 2>"$ES_TMP/$1.err"
	echo "$(jq -r .state "$ES_TMP/$1.json") $(mig_request b $(($2 + 1)))"
}
log_count() { es_agent_log "$MIG_NAME_B" | grep -c "$1"; }

es_expect_eq "migration with a bundle: done, the counter continues at B" "$(migrate c1 3)" "done 4"
es_expect_eq "the target received one bundle of two objects" "$(log_count 'bundle_received.*objects=2')" 1
es_expect_eq "layer and checkpoint unpacked while they arrived" "$(log_count 'object_unpacked.*while_received=1')" 2
mig_api b DELETE /v1/containers/c1 >/dev/null

kill "$MIG_PID_B"; wait "$MIG_PID_B" 2>/dev/null
ES_AGENT_BIN=edgeshiftd-faults EDGESHIFTD_FAULT=no_bundle mig_agent b
es_expect_eq "a target without bundles: done, the counter continues at B" "$(migrate c2 2)" "done 3"
es_expect_eq "no bundle sent to it" "$(log_count bundle_received)" 0
es_expect_eq "its objects unpacked while they arrived" "$(log_count 'object_unpacked.*while_received=1')" 2
mig_api b DELETE /v1/containers/c2 >/dev/null
kill "$MIG_PID_B"; wait "$MIG_PID_B" 2>/dev/null
mig_agent b

# Bundles made by hand (python3: records of bundle.h around small archives).
python3 - "$ES_TMP" <<'PY'
import hashlib, io, json, struct, subprocess, sys, tarfile
tmp = sys.argv[1]
def archive(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data in entries:
            ti = tarfile.TarInfo(path); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    return subprocess.run(["zstd", "-q", "-c"], input=b.getvalue(), capture_output=True,
                          check=True).stdout
good, hostile = archive([("ok", b"x")]), archive([("../../../../escaped-bundle", b"x")])
def rec(kind, obj, payload=b""):
    return struct.pack(">BBHI", kind, obj, 0, len(payload)) + payload
def obj(i, data, end=True):
    return rec(1, i, data) + (rec(2, i) if end else b"")
def restore(objs, bad=False):
    o = {n: {"sha256": "0" * 64 if bad else hashlib.sha256(d).hexdigest(), "bytes": len(d)}
         for n, d in objs}
    return rec(3, 0, json.dumps({"objects": o}).encode())
whole = obj(1, good) + obj(2, good) + restore([("layer", good), ("checkpoint", good)])
cases = {
    "whole": whole,
    "after": whole + obj(1, good),
    "truncated": obj(1, good) + rec(1, 2, good)[:20],
    "norestore": obj(1, good) + obj(2, good),
    "twice": obj(1, good) + obj(1, good) + obj(2, good) + restore([("layer", good)]),
    "interleaved": obj(1, good, end=False) + obj(2, good),
    "badsum": obj(1, good) + obj(2, good) + restore([("layer", good), ("checkpoint", good)], True),
    "hostile": obj(1, hostile) + obj(2, good) + restore([("layer", hostile), ("checkpoint", good)]),
}
for name, body in cases.items():
    open(f"{tmp}/{name}.bundle", "wb").write(body)
PY
prep() {
	mig_api b POST /v1/migrations/incoming "{\"id\":\"$1\",\"container\":\"victim\",\"mode\":\"partial\",\"from\":\"t\",\"spec\":{\"name\":\"victim\",\"image\":\"$MIG_IMAGE\",\"args\":[\"/bin/true\"]}}" >/dev/null
}
# put_bundle ID CASE: the HTTP status; the answer in $ES_TMP/CASE.out
put_bundle() {
	es_in "$MIG_NS_B" curl -s -m 30 -o "$ES_TMP/$2.out" -w '%{http_code}' -X PUT \
		-H "Authorization: Bearer $MIG_TOKEN" -H 'Transfer-Encoding: chunked' \
		--data-binary "@$ES_TMP/$2.bundle" "http://127.0.0.1:$MIG_PORT/v1/migrations/incoming/$1/bundle"
}
es_expect_eq "bundle for an unknown migration: 404" "$(put_bundle nosuch whole)" 404
# unfinished ID CASE: files of the object the body left unfinished (whole ones stay staged)
unfinished() {
	local obj=none
	case $2 in truncated) obj=checkpoint ;; interleaved) obj=layer ;; esac
	find "$MIG_STATE_B/migrations/in-$1" -name "$obj.*" 2>/dev/null
}
for c in "after:a record after the restore request" "truncated:the body ended inside a record" \
	 "norestore:no restore request" "twice:sent twice: the layer" \
	 "interleaved:objects interleaved: the checkpoint"; do
	why=${c#*:} c=${c%%:*} id=bad${c%%:*}
	prep "$id"
	code=$(put_bundle "$id" "$c")
	left=$(unfinished "$id" "$c")
	es_expect_eq "bundle $c: 400 ($why), nothing restored or left unfinished" \
		"$code $(jq -r .error "$ES_TMP/$c.out") $(mig_in_outcome "$id") ${left:-none}" \
		"400 bundle: $why absent none"
done
id=sum1
prep "$id"
es_expect_eq "bundle with a wrong checksum: accepted, the restore fails with 422" \
	"$(put_bundle "$id" badsum) $(mig_in_outcome "$id")" "202 422"
id=host1
prep "$id"
code=$(put_bundle "$id" hostile)
es_expect_eq "hostile layer in a bundle refused (400), nothing escaped, no container" \
	"$code $(mig_in_outcome "$id") $(find / -xdev -name escaped-bundle 2>/dev/null | wc -l) $(test -e "$MIG_STATE_B/containers/victim" && echo container || echo none)" \
	"202 400 0 none"
es_done
