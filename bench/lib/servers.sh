# Process handling and the servers of bench/run: MinIO (the shared origin), the JWKS
# server, Redis (the fleet scenario), gatehouse, nginx and oauth2-proxy. Sourced by
# bench/run, which sets ROOT, CACHE, BIN, RUN, the ports and ADMIN_TOKEN.
# shellcheck shell=bash

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

# Every process bench/run starts is tracked by PID and stopped by PID, never by name.
PIDS=()
track() { PIDS+=("$1"); }

# stop_pid PID: TERM, then KILL after 10 s; the PID is forgotten so that it is never
# signalled again once the kernel may have given it to someone else.
stop_pid() {
	local pid=$1 i
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	local keep=() p
	for p in "${PIDS[@]}"; do
		[[ "$p" == "$pid" ]] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

stop_all() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[i]}"
	done
}

# port_free PORT: fail when something already listens on 127.0.0.1:PORT.
port_free() {
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		die "127.0.0.1:$1 is already in use (another bench/run, or something else): stop it first"
	fi
}

# wait_up URL PID WHAT [WANT]: wait until URL answers (with status WANT, default any).
wait_up() {
	local url=$1 pid=$2 what=$3 want=${4:-} code i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || die "$what exited during startup; its log is in $RUN"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		if [[ "$code" != "000" && (-z "$want" || "$code" == "$want") ]]; then
			return 0
		fi
		sleep 0.1
	done
	die "$what not ready after 60 s ($url answered $code); its log is in $RUN"
}

# --- MinIO ---------------------------------------------------------------------------

# s3 ARGS...: curl signing its request with the MinIO root keys.
s3() { curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$MINIO_USER:$MINIO_PASSWORD" "$@"; }

# start_minio: MinIO on CPU 1 (beside wrk: CPU 0 belongs to the server under test), with
# its data kept in the cache so the 1 GiB object is made once.
start_minio() {
	port_free "$MINIO_PORT"
	port_free "$MINIO_CONSOLE_PORT"
	mkdir -p "$MINIO_DATA"
	# MinIO moves what it deletes or overwrites here and empties it only at its next
	# start, in the background, where it would run beside the measurements (the upload
	# scenario leaves about 5 GiB per round); it is garbage while MinIO is stopped.
	rm -rf "$MINIO_DATA/.minio.sys/tmp/.trash"
	MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_BROWSER=off \
		MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off GOMAXPROCS=1 \
		taskset -c 1 "$CACHE/bin/minio" server --quiet \
		--address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
		"$MINIO_DATA" >"$RUN/minio.log" 2>&1 &
	MINIO_PID=$!
	track "$MINIO_PID"
	wait_up "$MINIO_URL/minio/health/ready" "$MINIO_PID" minio 200
}

# prepare_bucket SIZES...: the bucket, readable anonymously (nginx and oauth2-proxy read
# it without signing; gatehouse signs), holding obj-<size> for each size asked for. An
# object already there with the right size is kept.
prepare_bucket() {
	s3 -o /dev/null -I "$MINIO_URL/$BUCKET" 2>/dev/null || s3 -o /dev/null -X PUT "$MINIO_URL/$BUCKET"
	# Uploaded with -T to "?policy=": curl 7.88 signs a --data body, and a bare "?policy",
	# in ways MinIO does not accept.
	printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}' \
		"$BUCKET" >"$RUN/bucket-policy.json"
	s3 -o /dev/null -T "$RUN/bucket-policy.json" "$MINIO_URL/$BUCKET?policy="
	local name size have tmp
	for name in "$@"; do
		size=$(object_size "$name")
		have=$(curl -s -o /dev/null -I -w '%{http_code} %header{content-length}' "$MINIO_URL/$BUCKET/obj-$name" || true)
		if [[ "$have" == "200 $size" ]]; then
			continue
		fi
		step "uploading obj-$name ($size bytes of random data) to MinIO (once: kept in $MINIO_DATA)"
		tmp="$CACHE/bench/upload.tmp"
		head -c "$size" /dev/urandom >"$tmp"
		s3 -o /dev/null -H 'Content-Type: application/octet-stream' -T "$tmp" "$MINIO_URL/$BUCKET/obj-$name"
		rm -f "$tmp"
	done
}

object_size() {
	case $1 in
	1k) echo 1024 ;;
	4k) echo 4096 ;;
	64k) echo 65536 ;;
	1m) echo 1048576 ;;
	1g) echo 1073741824 ;;
	*) die "unknown object size $1" ;;
	esac
}

# --- the JWKS server -----------------------------------------------------------------

start_jwks() {
	port_free "$JWKS_PORT"
	taskset -c 1 "$BIN/benchkit" jwks-serve --addr "127.0.0.1:$JWKS_PORT" --file "$DATA/jwks.json" \
		>"$RUN/jwks.log" 2>&1 &
	JWKS_PID=$!
	track "$JWKS_PID"
	wait_up "http://127.0.0.1:$JWKS_PORT/jwks.json" "$JWKS_PID" "jwks server" 200
}

# --- Redis ---------------------------------------------------------------------------

# start_redis: Debian's redis-server on loopback, on CPU 1 beside wrk and MinIO (CPU 0
# belongs to the server under test; in a fleet Redis runs on its own machine), without
# persistence: the fleet scenario needs nothing kept. Sets REDIS_PID.
start_redis() {
	port_free "$REDIS_PORT"
	mkdir -p "$RUN/redis"
	taskset -c 1 redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
		--dir "$RUN/redis" --logfile "$RUN/redis.log" --daemonize no >/dev/null 2>&1 &
	REDIS_PID=$!
	track "$REDIS_PID"
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$REDIS_PID" 2>/dev/null || die "redis-server exited during startup; its log is $RUN/redis.log"
		[[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && return 0
		sleep 0.1
	done
	die "redis-server not ready after 10 s; its log is $RUN/redis.log"
}

# --- gatehouse -----------------------------------------------------------------------

# gatehouse_config FILE ROUTE_AUTH [TOP_LEVEL] [ADMIN]: a configuration serving /bench/*
# from the bucket, with ROUTE_AUTH (YAML lines at the route's indentation), optional
# top-level sections (key_groups) and optional lines of the admin section (its token).
gatehouse_config() {
	cat >"$1" <<EOF
# Generated by bench/run.
server:
  listen: 127.0.0.1:$GH_PORT
admin:
  listen: 127.0.0.1:$GH_ADMIN_PORT
${4:-}
log:
  access: /dev/null # every request is logged, as nginx and oauth2-proxy log theirs
origins:
  minio:
    s3:
      bucket: $BUCKET
      endpoint: $MINIO_URL
      path_style: true
      access_key_id: \${BENCH_MINIO_USER}
      secret_access_key: \${BENCH_MINIO_PASSWORD}
${3:-}
routes:
  - name: bench
    path: /bench/*
    origin: minio
    strip_prefix: /bench
$2
EOF
}

# start_gatehouse NAME CONFIG: gatehouse on CPU 0 with GOMAXPROCS=1; sets GH_PID.
start_gatehouse() {
	local name=$1 cfg=$2
	port_free "$GH_PORT"
	port_free "$GH_ADMIN_PORT"
	BENCH_MINIO_USER=$MINIO_USER BENCH_MINIO_PASSWORD=$MINIO_PASSWORD BENCH_ADMIN_TOKEN=$ADMIN_TOKEN \
		"$BIN/gatehouse" check --config "$cfg" >/dev/null ||
		die "gatehouse check refused the generated $cfg"
	# shellcheck disable=SC2086 # GATEHOUSE_ENV is a list of NAME=VALUE words
	env BENCH_MINIO_USER="$MINIO_USER" BENCH_MINIO_PASSWORD="$MINIO_PASSWORD" BENCH_ADMIN_TOKEN="$ADMIN_TOKEN" \
		GOMAXPROCS=1 $GATEHOUSE_ENV \
		taskset -c 0 "$BIN/gatehouse" serve --config "$cfg" >"$RUN/$name.out" 2>"$RUN/$name.err" &
	GH_PID=$!
	track "$GH_PID"
	wait_up "http://127.0.0.1:$GH_ADMIN_PORT/readyz" "$GH_PID" "gatehouse ($name)" 200
}

# --- nginx ---------------------------------------------------------------------------

# nginx_config NAME PORT SERVER_BODY [HTTP_EXTRA]: one nginx instance per contender, so
# each one's memory holds only its own configuration (the geo table, the cache zone).
# Upstream keep-alive, HTTP/1.1 and no temp files are what anyone serving from S3 sets;
# the Authorization header is not passed on (MinIO would read a Basic one as a failed
# S3 signature).
nginx_config() {
	local name=$1 port=$2 body=$3 extra=${4:-} d="$RUN/$1"
	mkdir -p "$d/tmp"
	cat >"$d/nginx.conf" <<EOF
# Generated by bench/run.
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
    worker_connections 4096;
}
http {
    default_type application/octet-stream;
    access_log /dev/null combined;  # every request is logged, as gatehouse logs its own
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;

    upstream minio {
        server 127.0.0.1:$MINIO_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host 127.0.0.1:$MINIO_PORT;
    proxy_set_header Authorization "";
    proxy_max_temp_file_size 0;
$extra
    server {
        listen 127.0.0.1:$port;
$body
    }
}
EOF
	nginx -t -q -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" || die "nginx refused $d/nginx.conf"
}

# start_nginx NAME PORT: the master and its one worker on CPU 0. Sets NGINX_PIDS to
# "WORKER,MASTER[,cache processes]" (the worker first: its VmHWM is the peak RSS).
start_nginx() {
	local name=$1 port=$2 d="$RUN/$1" master worker others i
	port_free "$port"
	taskset -c 0 nginx -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
	master=$!
	track "$master"
	wait_up "http://127.0.0.1:$port/" "$master" "nginx ($name)"
	for ((i = 0; i < 100; i++)); do
		worker=$(pgrep -P "$master" -f 'worker process' || true)
		[[ -n "$worker" ]] && break
		sleep 0.1
	done
	[[ -n "$worker" && "$worker" != *$'\n'* ]] || die "nginx ($name): want one worker process, found '${worker}'"
	# The cache manager stays; the one-shot cache loader exits a minute after start.
	others=$(pgrep -P "$master" -f 'cache manager' | paste -sd, - || true)
	NGINX_PIDS="$worker,$master${others:+,$others}"
}

# --- oauth2-proxy --------------------------------------------------------------------

# start_oauth2_proxy: bearer tokens only (--skip-jwt-bearer-tokens), verified against the
# loopback JWKS without OIDC discovery; upstream the same bucket. Sets O2P_PID.
start_oauth2_proxy() {
	port_free "$O2P_PORT"
	GOMAXPROCS=1 taskset -c 0 "$CACHE/bin/oauth2-proxy" \
		--http-address="127.0.0.1:$O2P_PORT" \
		--upstream="$MINIO_URL/" \
		--provider=oidc \
		--oidc-issuer-url="$JWT_ISSUER" \
		--skip-oidc-discovery \
		--oidc-jwks-url="http://127.0.0.1:$JWKS_PORT/jwks.json" \
		--login-url="$JWT_ISSUER/login" \
		--redeem-url="$JWT_ISSUER/token" \
		--client-id="$JWT_AUDIENCE" \
		--client-secret=bench-client-secret \
		--cookie-secret=0123456789abcdef0123456789abcdef \
		--cookie-secure=false \
		--email-domain='*' \
		--skip-jwt-bearer-tokens \
		>"$RUN/oauth2-proxy.log" 2>&1 &
	O2P_PID=$!
	track "$O2P_PID"
	wait_up "http://127.0.0.1:$O2P_PORT/ping" "$O2P_PID" oauth2-proxy 200
}
