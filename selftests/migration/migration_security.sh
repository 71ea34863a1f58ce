#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The migration API refuses requests without the shared token (401, logged
# with the peer's address), and nothing from the network reaches outside
# the agent's state directory: unsafe names, archive entries with "..",
# absolute paths, paths through a symlink, device nodes. A body over the
# API's 1 MiB limit gets the 413 (not a dropped connection); an image whose
# content does not have the digest it is sent under is refused and not
# stored.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_security
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"

es_plan 20
mig_setup partial || exit 1
url=http://$MIG_IP_B:$MIG_PORT

# Authentication.
code=$(es_in "$MIG_NS_A" curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$url/v1/migrations/incoming")
es_expect_eq "no token: 401" "$code" 401
code=$(es_in "$MIG_NS_A" curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-token-0123456789" \
	-X POST -d '{}' "$url/v1/migrations/incoming")
es_expect_eq "wrong token: 401" "$code" 401
code=$(es_in "$MIG_NS_A" curl -s -o /dev/null -w '%{http_code}' -X POST \
	-d "{\"container\":\"x\",\"to\":\"$MIG_NODE_A\",\"mode\":\"partial\"}" "$url/v1/migrations")
es_expect_eq "migration request without token: 401" "$code" 401
out=$(EDGESHIFT_TOKEN="" es_in "$MIG_NS_A" "$EDGESHIFT" --api "http://127.0.0.1:$MIG_PORT" migrate \
	--container x --to "$MIG_NODE_B" --mode partial 2>&1)
if grep -q 401 <<<"$out"; then es_ok "edgeshift migrate without token refused"
else es_not_ok "edgeshift migrate without token refused" "$out"; fi
if es_agent_log b2 | grep -q "auth_refused.*peer=$MIG_IP_A"; then es_ok "refusal logged with the peer address"
else es_not_ok "refusal logged with the peer address" "$(es_agent_log b2 | tail -5)"; fi

# Names from the network.
prep() {
	mig_api b POST /v1/migrations/incoming "{\"id\":\"$1\",\"container\":\"$2\",\"mode\":\"partial\",\"from\":\"t\",\"spec\":{\"name\":\"$2\",\"image\":\"$MIG_IMAGE\",\"args\":[\"/bin/true\"]}}" | tail -n 1
}
es_expect_eq "container name ../x refused" "$(prep id1 ../x)" 400
es_expect_eq "migration id with a slash refused" "$(prep a/b ok)" 400
put() {
	es_in "$MIG_NS_B" curl -s -o /dev/null -w '%{http_code}' --path-as-is -X PUT \
		-H "Authorization: Bearer $MIG_TOKEN" --data-binary "@$2" "http://127.0.0.1:$MIG_PORT$1"
}
printf 'x' >"$ES_TMP/x"
es_expect_eq "object name with .. refused" "$(put /v1/migrations/incoming/id9/objects/../../../x "$ES_TMP/x")" 404

# Archives that try to leave the destination.
outside=$ES_TMP/outside
mkdir -p "$outside"
python3 - "$ES_TMP" "$outside" <<'PY'
import io, sys, tarfile
tmp, outside = sys.argv[1], sys.argv[2]
def tar(name, entries):
    with tarfile.open(f"{tmp}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, arg in entries:
            ti = tarfile.TarInfo(path)
            if kind == "file":
                data = arg.encode(); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE; ti.linkname = arg; t.addfile(ti)
            elif kind == "dev":
                ti.type = tarfile.CHRTYPE; ti.devmajor, ti.devminor = 1, 3; t.addfile(ti)
tar("dotdot", [("file", "../../../../escaped-dotdot", "x")])
tar("absolute", [("file", f"{outside}/escaped-absolute", "x")])
tar("symlink", [("symlink", "link", outside), ("file", "link/escaped-symlink", "x")])
tar("device", [("dev", "null-again", None)])
tar("good", [("file", "ok", "x")])
tar("image", [("file", "rootfs/etc/hostname", "not-the-named-image\n")])
PY
for t in dotdot absolute symlink device good image; do zstd -q -f "$ES_TMP/$t.tar" -o "$ES_TMP/$t.tar.zst"; done
# restore ID BODY: ask B to restore; the HTTP status of its outcome (the
# restore runs asynchronously: 202, then the status says how it ended).
restore() {
	local code
	code=$(mig_api b POST "/v1/migrations/incoming/$1/restore" "$2" | tail -n 1)
	[ "$code" = 202 ] || { echo "$code"; return; }
	mig_in_outcome "$1"
}
# attack NAME: stage it as the writable layer of a migration and restore.
attack() {
	local id=atk$RANDOM sha bytes
	prep "$id" "victim" >/dev/null
	put "/v1/migrations/incoming/$id/objects/layer" "$ES_TMP/$1.tar.zst" >/dev/null
	put "/v1/migrations/incoming/$id/objects/checkpoint" "$ES_TMP/good.tar.zst" >/dev/null
	sha=$(sha256sum "$ES_TMP/$1.tar.zst" | cut -d' ' -f1); bytes=$(stat -c %s "$ES_TMP/$1.tar.zst")
	gsha=$(sha256sum "$ES_TMP/good.tar.zst" | cut -d' ' -f1); gbytes=$(stat -c %s "$ES_TMP/good.tar.zst")
	restore "$id" \
		"{\"objects\":{\"layer\":{\"sha256\":\"$sha\",\"bytes\":$bytes},\"checkpoint\":{\"sha256\":\"$gsha\",\"bytes\":$gbytes}}}"
}
for t in dotdot absolute symlink device; do
	code=$(attack "$t")
	if [ "$code" = 400 ] && [ -z "$(find "$ES_TMP" -name "escaped-*" -o -name null-again 2>/dev/null)" ] &&
	   [ ! -e "$MIG_STATE_B/containers/victim" ]; then
		es_ok "archive entry refused: $t"
	else
		es_not_ok "archive entry refused: $t" "HTTP $code; $(find "$ES_TMP" -name "escaped-*")"
	fi
done
# The same path with a clean archive gets past unpacking (and fails at
# CRIU's restore of a fake checkpoint), so the refusals above are real.
es_expect_eq "clean archive unpacked, fake checkpoint fails restore" "$(attack good)" 500
es_check "failed restore left no container" test ! -e "$MIG_STATE_B/containers/victim"
# A wrong checksum is refused before anything is unpacked.
id=sum$RANDOM
prep "$id" victim >/dev/null
put "/v1/migrations/incoming/$id/objects/layer" "$ES_TMP/good.tar.zst" >/dev/null
put "/v1/migrations/incoming/$id/objects/checkpoint" "$ES_TMP/good.tar.zst" >/dev/null
code=$(restore "$id" \
	"{\"objects\":{\"layer\":{\"sha256\":\"$(printf '0%.0s' {1..64})\",\"bytes\":1},\"checkpoint\":{\"sha256\":\"0\",\"bytes\":1}}}")
es_expect_eq "checksum mismatch refused" "$code" 422
# send_image ID ARCHIVE: a complete migration whose image, named $fake, is
# ARCHIVE (with a clean layer and checkpoint); the restore's outcome.
fake=$(printf 'f%.0s' {1..64})
send_image() {
	local o objs=""
	mig_api b POST /v1/migrations/incoming "{\"id\":\"$1\",\"container\":\"victim\",\"mode\":\"complete\",\"from\":\"t\",\"spec\":{\"name\":\"victim\",\"image\":\"$fake\",\"args\":[\"/bin/true\"]}}" >/dev/null
	for o in "image:$2" layer:good checkpoint:good; do
		put "/v1/migrations/incoming/$1/objects/${o%%:*}" "$ES_TMP/${o#*:}.tar.zst" >/dev/null
		objs="$objs\"${o%%:*}\":{\"sha256\":\"$(sha256sum "$ES_TMP/${o#*:}.tar.zst" | cut -d' ' -f1)\",\"bytes\":$(stat -c %s "$ES_TMP/${o#*:}.tar.zst")},"
	done
	restore "$1" "{\"objects\":{${objs%,}}}"
}
# An image is unpacked while it arrives (into private staging): a hostile
# one is refused the same way, and nothing of it stays.
code=$(send_image "img$RANDOM" dotdot)
left=$(find "$ES_TMP" "$MIG_STATE_B/images" -name "escaped-*" -o -name ".in-*" -o -name "$fake" 2>/dev/null)
es_expect_eq "hostile image refused while streamed, nothing left" "$code:${left:-none}" "400:none"

# An image whose content does not have the digest it is sent under (the
# name it would be stored by): 422, the reason, nothing stored.
id=dig$RANDOM
code=$(send_image "$id" image)
left=$(find "$MIG_STATE_B/images" -name ".in-*" -o -name "$fake" 2>/dev/null)
es_expect_eq "image under a digest its content does not have: 422, nothing stored" \
	"$code:${left:-none}:$([ -e "$MIG_STATE_B/containers/victim" ] && echo container || echo no-container)" \
	"422:none:no-container"
es_expect_eq "image under a wrong digest: the reason says so" \
	"$(mig_api b GET "/v1/migrations/incoming/$id" | head -n 1 | jq -r '.error // ""' | grep -c 'has digest')" 1

# Bodies over the 1 MiB limit: the 413 reaches the client, with the declared
# length (refused before the body) and chunked (read and dropped).
head -c 2000000 /dev/zero | tr '\0' x >"$ES_TMP/big"
big() {
	es_in "$MIG_NS_B" curl -s -m 30 -o "$ES_TMP/big.out" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $MIG_TOKEN" "$@" --data-binary "@$ES_TMP/big" \
		"http://127.0.0.1:$MIG_PORT/v1/migrations"
	echo " $?"
}
es_expect_eq "2 MB body with Content-Length: 413 answered (curl exit 0)" "$(big)" "413 0"
es_expect_eq "2 MB chunked body: 413 answered (curl exit 0), with the reason" \
	"$(big -H 'Transfer-Encoding: chunked') $(jq -r .error "$ES_TMP/big.out" | grep -c 'too large')" "413 0 1"
es_done
