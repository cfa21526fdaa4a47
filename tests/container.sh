#!/usr/bin/env bash
# Builds the container of `s3-connector serve` (deploy/Dockerfile, its `prebuilt` stage) and runs
# it, so that the image the project ships is built and exercised rather than only written down.
# These machines have no image registry: the base image is a Debian bookworm that debootstrap
# builds from Debian's packages (minbase plus ca-certificates), imported into podman as
# localhost/debian:bookworm-slim and kept for the next run. Then: a local S3 server on the host
# (the host crate's `local_s3` example, 127.0.0.1), `serve` in the container with the host's
# network (it listens on 127.0.0.1 only) and a tenants file mounted read-only, and curl checks
# /healthz, a PUT and a GET with the tenant's token (bytes compared), that the serving process
# runs as a non-root user, and prints the image's size.
#
#   tests/container.sh                     # as root; installs podman, runc, debootstrap if missing
#
# Environment:
#   BINARY     the s3-connector binary put into the image (default target/debug/s3-connector);
#              it must run on bookworm's glibc 2.36 (build it on Debian 12)
#   LOCAL_S3   the built local_s3 example (default target/debug/examples/local_s3)
#   BASE       the base image (default localhost/debian:bookworm-slim, built with debootstrap when
#              missing; give docker.io/library/debian:bookworm-slim where a registry is reachable)
#   MIRROR     debootstrap's mirror (default http://deb.debian.org/debian)
#   KEEP_LOGS  1: keep the temporary directory with the logs
#   KEEP_IMAGE 1: keep the built image (localhost/s3-connector:container-test); by default it is
#              removed on exit, so that CI's runs do not pile up 200 MB images (it builds in seconds)
#
# podman runs with a containers.conf of this script's own (CONTAINERS_CONF, in its temporary
# directory; unless CONTAINERS_CONF is already set): runc as the runtime, the cgroupfs manager
# (no systemd here), and no default ulimits (podman's default nofile of 1048576 is above the hard
# limit of these machines). The system's /etc/containers files are never written. If podman
# cannot use its default storage (overlay), a storage.conf of its own selects vfs.
#
# Prints one PASS or FAIL line per check and `N passed, N failed`; exits 1 on any failure. The
# container, the S3 server and the built image are removed on exit; the base image stays (it is
# the cache: a first run with debootstrap took 35 s here, a second one 4 s).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="${BINARY:-$root/target/debug/s3-connector}"
local_s3="${LOCAL_S3:-$root/target/debug/examples/local_s3}"
base="${BASE:-localhost/debian:bookworm-slim}"
mirror="${MIRROR:-http://deb.debian.org/debian}"
image="localhost/s3-connector:container-test"
name="s3-connector-container-test-$$"
access_key_id="AKCONTAINERTEST"
secret_access_key="container-test-dev-secret"
bucket="container-test"

if [[ "$(id -u)" != 0 ]]; then
    echo "FAIL: run as root (podman runs rootful here, debootstrap needs root)" >&2
    exit 2
fi
for file in "$binary" "$local_s3"; do
    if [[ ! -x "$file" ]]; then
        echo "FAIL: $file is missing (cargo build -p s3-connector-cli -p s3-connector-local-store --examples --bins builds both)" >&2
        exit 2
    fi
done

started=$SECONDS
# 1. What is missing: podman, runc and debootstrap from Debian's packages.
missing=()
for tool in podman runc debootstrap curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ ${#missing[@]} != 0 ]]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "FAIL: ${missing[*]} missing and there is no apt-get to install them" >&2
        exit 2
    fi
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/container-test.XXXXXX")"
source "$root/tests/local_s3.sh"
container_started=0
image_built=0
cleanup() {
    local status=$?
    set +e
    if [[ "$container_started" == 1 ]]; then podman rm -f -t 5 "$name" >/dev/null 2>&1; fi
    if [[ "$image_built" == 1 && "${KEEP_IMAGE:-0}" != 1 ]]; then podman rmi -f "$image" >/dev/null 2>&1; fi
    local_s3_stop
    # The rootfs debootstrap left behind (if interrupted) holds device nodes: rm as root is fine.
    if [[ "${KEEP_LOGS:-0}" == 1 ]]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# 2. podman's settings, in files of this script's own.
if [[ -z "${CONTAINERS_CONF:-}" ]]; then
    cat >"$work/containers.conf" <<'EOF'
# Written by tests/container.sh for its own podman calls (CONTAINERS_CONF).
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
    export CONTAINERS_CONF="$work/containers.conf"
fi
if ! podman info >"$work/podman-info.log" 2>&1; then
    cat >"$work/storage.conf" <<'EOF'
# Written by tests/container.sh: podman's default storage (overlay) did not work here.
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
    export CONTAINERS_STORAGE_CONF="$work/storage.conf"
    if ! podman info >"$work/podman-info.log" 2>&1; then
        fail "podman does not run here: $(tail -n 5 "$work/podman-info.log")"
        exit 1
    fi
fi
pass "podman $(podman version --format '{{.Client.Version}}'), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'), storage $(podman info --format '{{.Store.GraphDriverName}}') ($((SECONDS - started)) s so far)"

# 3. The base image: debootstrap once, then the image is the cache.
if podman image exists "$base"; then
    pass "base image $base present (cached)"
elif [[ "$base" != localhost/* ]]; then
    if podman pull -q "$base" >"$work/pull.log" 2>&1; then pass "pulled $base"
    else fail "pull $base: $(tail -n 3 "$work/pull.log")"; exit 1; fi
else
    t0=$SECONDS
    if ! debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$mirror" \
        >"$work/debootstrap.log" 2>&1; then
        fail "debootstrap bookworm from $mirror: $(tail -n 5 "$work/debootstrap.log")"
        exit 1
    fi
    # What debian:bookworm-slim leaves out too: package caches and lists, documentation, man
    # pages, translations (the copyright files stay).
    rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/cache/apt/*.bin \
        "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/log/*.log \
        "$work/rootfs"/usr/share/man/* "$work/rootfs"/usr/share/info/* "$work/rootfs"/usr/share/locale/*
    find "$work/rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    if tar --numeric-owner -C "$work/rootfs" -c . | podman import -q - "$base" >"$work/import.log" 2>&1; then
        pass "base image $base built with debootstrap (minbase + ca-certificates) in $((SECONDS - t0)) s, $(podman image inspect --format '{{.Size}}' "$base") bytes"
    else
        fail "podman import: $(tail -n 3 "$work/import.log")"
        exit 1
    fi
    rm -rf "$work/rootfs"
fi

# 4. The image, from deploy/Dockerfile's `prebuilt` stage; the context is only the binary (a hard
#    link where it can be), not the repository with its gigabytes of target/.
mkdir "$work/context"
ln "$binary" "$work/context/s3-connector" 2>/dev/null || cp "$binary" "$work/context/s3-connector"
t0=$SECONDS
image_built=1
if podman build -q --network=none -f "$root/deploy/Dockerfile" --target prebuilt \
    --build-arg "BASE=$base" --build-arg BINARY=s3-connector -t "$image" "$work/context" \
    >"$work/build.log" 2>&1; then
    pass "built $image from deploy/Dockerfile (--target prebuilt) in $((SECONDS - t0)) s"
else
    fail "podman build: $(tail -n 10 "$work/build.log")"
    exit 1
fi

# 5. The local S3 server: its stdin is a pipe this script holds, so it stops when we exit.
endpoint=""
if local_s3_start "$local_s3" "$access_key_id" "$secret_access_key" "$work/local_s3.log"; then
    endpoint="$local_s3_endpoint"
    pass "local S3 server at $endpoint"
else
    fail "local S3 server did not print its endpoint: $(cat "$work/local_s3.log")"
    exit 1
fi
if "$binary" --endpoint "$endpoint" --region us-east-1 --path-style \
    --access-key-id "$access_key_id" --secret-access-key "$secret_access_key" \
    --allow "$bucket=admin" mb "s3://$bucket" >"$work/mb.log" 2>&1 {local_s3_in}>&- {local_s3_out}<&-; then
    pass "bucket $bucket made on the host"
else
    fail "mb s3://$bucket: $(cat "$work/mb.log")"
    exit 1
fi

# 6. The tenants file: one tenant with the local server's keys and one token, readable by the
#    container's user (10001) only.
cat >"$work/tenants.toml" <<EOF
[[tenant]]
name = "container-test"
credentials = { source = "static", access_key_id = "$access_key_id", secret_access_key = "$secret_access_key" }
allow = [{ bucket = "$bucket", operations = ["read", "write", "list"] }]
EOF
token="$("$binary" serve-token add --tenants "$work/tenants.toml" --tenant container-test 2>"$work/token.log")" || {
    fail "serve-token add: $(cat "$work/token.log")"
    exit 1
}
chown 10001:10001 "$work/tenants.toml"
chmod 0600 "$work/tenants.toml"

# 7. serve in the container: the host's network, listening on loopback only, on a port of its
#    choosing (read back from its log).
container_started=1
if ! podman run -d --name "$name" --network host \
    -v "$work/tenants.toml:/etc/s3-connector/tenants.toml:ro" "$image" \
    --endpoint "$endpoint" --region us-east-1 --path-style --audit - \
    serve --listen 127.0.0.1:0 --tenants /etc/s3-connector/tenants.toml \
    >"$work/run.log" 2>&1 {local_s3_in}>&- {local_s3_out}<&-; then
    fail "podman run: $(cat "$work/run.log")"
    exit 1
fi
url=""
for _ in $(seq 1 150); do # up to 30 s: serve compiles the component at start
    podman logs "$name" >"$work/serve.log" 2>&1 || true
    url="$(sed -n 's|.*serving on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' "$work/serve.log" | head -n 1)"
    [[ -n "$url" ]] && break
    [[ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" == true ]] || break
    sleep 0.2
done
if [[ -n "$url" ]]; then pass "serve in the container listening on $url"
else
    fail "serve did not start in the container; its log:"
    sed 's/^/    /' "$work/serve.log"
    exit 1
fi

# request METHOD PATH [curl args...]: sets $status; the body is in $work/body.
request() {
    local method="$1" path="$2"
    shift 2
    status="$(curl -sS --max-time 30 -X "$method" -o "$work/body" -w '%{http_code}' "$@" "$url$path" \
        2>"$work/curl.err" || true)"
    [[ -n "$status" ]] || status="000"
}
answer() { head -c 300 "$work/body"; cat "$work/curl.err"; }

# 8. The checks.
request GET /healthz
if [[ $status == 200 ]]; then pass "GET /healthz -> 200 $(answer)"; else fail "GET /healthz -> $status $(answer)"; fi

request GET "/$bucket/x"
if [[ $status == 401 ]]; then pass "GET without a token -> 401"; else fail "GET without a token -> $status $(answer)"; fi

head -c $((1024 * 1024)) /dev/urandom >"$work/object"
request PUT "/$bucket/dir/object.bin" -H "authorization: Bearer $token" -T "$work/object"
if [[ $status == 200 ]]; then pass "PUT /$bucket/dir/object.bin (1 MiB) -> 200 $(answer)"
else fail "PUT /$bucket/dir/object.bin -> $status $(answer)"; fi

request GET "/$bucket/dir/object.bin" -H "authorization: Bearer $token"
if [[ $status == 200 ]] && cmp -s "$work/object" "$work/body"; then pass "GET /$bucket/dir/object.bin -> 200, same 1 MiB"
else fail "GET /$bucket/dir/object.bin -> $status $(cmp "$work/object" "$work/body" 2>&1 | head -n 1)"; fi

# The serving process itself, seen from the host: its real uid (no user namespace here, so the
# host's uid is the container's), and what podman top and `id` inside say.
pid="$(podman inspect --format '{{.State.Pid}}' "$name")"
uid="$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
exec_uid="$(podman exec "$name" id -u 2>/dev/null || true)"
top="$(podman top "$name" user huser args 2>/dev/null | sed -n 2p | tr -s ' ')"
if [[ -n "$uid" && "$uid" != 0 && "$exec_uid" == "$uid" ]]; then
    pass "serve runs as uid $uid, not root (podman top: $top; podman exec id -u: $exec_uid)"
else fail "serve's uid: /proc/$pid/status says '$uid', podman exec id -u says '$exec_uid' ($top)"; fi

if [[ "$(podman inspect --format '{{.State.Running}}' "$name")" == true ]]; then pass "the container still runs"
else fail "the container exited during the checks"; fi

size="$(podman image inspect --format '{{.Size}}' "$image")"
base_size="$(podman image inspect --format '{{.Size}}' "$base")"
echo "image $image: $size bytes ($((size / 1000000)) MB; base $base $((base_size / 1000000)) MB, binary $(($(stat -c %s "$binary") / 1000000)) MB)"

if [[ "$failed" != 0 ]]; then
    echo "serve's log (last 40 lines):"
    podman logs "$name" 2>&1 | tail -n 40 | sed 's/^/    /'
fi
echo "$passed passed, $failed failed ($((SECONDS - started)) s)"
[[ "$failed" == 0 ]]
