# The host crate's local S3 server (the `local_s3` example) for the shell tests
# (node_hosts.sh, node_red.sh, wasmtime_serve.sh, container.sh): one way to start it and to be
# sure it stops. Sourced, not run.
#
#   source "$root/tests/local_s3.sh"
#   local_s3_start "$LOCAL_S3" "$access_key_id" "$secret_access_key" "$work/local_s3.log" || exit 1
#   ... "$local_s3_endpoint" ...; in the EXIT trap: local_s3_stop
#
# Its stdin is a pipe the script holds (`local_s3_in`): EOF stops it and deletes its directory.
# Children that outlive a step should not inherit the pipe: `{local_s3_in}>&- {local_s3_out}<&-`.

local_s3_pid=""
local_s3_in=""
local_s3_out=""
local_s3_endpoint=""

# Starts BINARY with the keys ACCESS_KEY_ID and SECRET, its stderr in LOG, and sets
# local_s3_endpoint from the line it prints; returns 1 when none comes within 60 s.
local_s3_start() {
    local binary="$1" access_key_id="$2" secret_access_key="$3" log="$4" line
    coproc LOCAL_S3_IO {
        S3_CONNECTOR_LOCAL_ACCESS_KEY_ID="$access_key_id" \
            S3_CONNECTOR_LOCAL_SECRET_ACCESS_KEY="$secret_access_key" \
            exec "$binary" 2>"$log"
    }
    local_s3_pid="$LOCAL_S3_IO_PID"
    local_s3_in="${LOCAL_S3_IO[1]}"
    local_s3_out="${LOCAL_S3_IO[0]}"
    if read -r -t 60 line <&"$local_s3_out" && [[ "$line" == endpoint=http://127.0.0.1:* ]]; then
        local_s3_endpoint="${line#endpoint=}"
        return 0
    fi
    return 1
}

# Stops the server if it runs: EOF on its stdin, the kill a fallback after 5 s.
local_s3_stop() {
    [[ -n "$local_s3_pid" ]] || return 0
    [[ -n "$local_s3_in" ]] && exec {local_s3_in}>&-
    for _ in $(seq 1 50); do kill -0 "$local_s3_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$local_s3_pid" 2>/dev/null
    wait "$local_s3_pid" 2>/dev/null
    local_s3_pid=""
}
