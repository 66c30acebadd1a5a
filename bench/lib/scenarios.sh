# The scenarios of issue 5 (and issue 6's Range, issue 14's upload, issue 16's fleet),
# their contenders, and how one is measured. Sourced by bench/run.
# shellcheck shell=bash

# Contenders of the variant being run, by name: URL, server PIDs ("SERVING,OTHERS..."),
# one request header, a file of request targets (several URLs, each line optionally with
# tab-separated headers: see bench/wrk/bench.lua), MinIO's PID when it is the origin, the
# body size every response must have, and its status (200 unless set).
declare -A C_URL C_PIDS C_HEADER C_PATHS C_ORIGIN C_SIZE C_STATUS
reset_contenders() {
	C_URL=() C_PIDS=() C_HEADER=() C_PATHS=() C_ORIGIN=() C_SIZE=() C_STATUS=()
}

# contender NAME URL PIDS SIZE [HEADER] [PATHS_FILE] [ORIGIN_PID]
contender() {
	C_URL[$1]=$2 C_PIDS[$1]=$3 C_SIZE[$1]=$4 C_HEADER[$1]=${5:-} C_PATHS[$1]=${6:-} C_ORIGIN[$1]=${7:-}
}

# check_contender NAME: one request must get the status and exactly the body size; for
# several targets, the first and the last are checked. Where the scenario has credentials
# (a header, or targets with a query: signed URLs), a request without them must not get 200.
check_contender() {
	local c=$1 url=${C_URL[$1]} want="${C_STATUS[$1]:-200} ${C_SIZE[$1]}" got hdr=() lines=()
	[[ -n "${C_HEADER[$c]}" ]] && hdr=(-H "${C_HEADER[$c]}")
	if [[ -n "${C_PATHS[$c]}" ]]; then
		lines=("$(head -n1 "${C_PATHS[$c]}")" "$(tail -n1 "${C_PATHS[$c]}")")
	fi
	local method=()
	# HEAD for the 1 GiB object: its size is enough (not for ranges: HEAD ignores Range).
	((C_SIZE[$c] > 1 << 20)) && [[ "${C_STATUS[$c]:-200}" == 200 ]] && method=(-I)
	local i t h extra fields
	for ((i = 0; i < (${#lines[@]} ? ${#lines[@]} : 1); i++)); do
		t=$url extra=()
		if ((${#lines[@]})); then
			IFS=$'\t' read -r -a fields <<<"${lines[i]}"
			t=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$url")${fields[0]} # scheme://host:port + target
			for h in "${fields[@]:1}"; do
				extra+=(-H "$h")
			done
		fi
		if ((${#method[@]})); then
			got=$(curl -s -o /dev/null "${method[@]}" -w '%{http_code} %header{content-length}' "${hdr[@]}" "${extra[@]}" "$t" || true)
		else
			got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${hdr[@]}" "${extra[@]}" "$t" || true)
		fi
		[[ "$got" == "$want" ]] || die "$SCENARIO/$c: GET $t ${extra[*]} answered '$got', want '$want' (logs in $RUN)"
	done
	if [[ -n "${C_HEADER[$c]}" || "${lines[0]:-}" == *\?* ]]; then
		got=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
		[[ "$got" != "200" ]] || die "$SCENARIO/$c: GET $url without credentials answered 200"
	fi
}

# cache_hit NAME URL [HEADER]: a second request must be answered from the cache
# (gatehouse's X-Cache: Hit, nginx's X-Cache-Status: HIT), so that a cache row never
# measures a proxy by mistake.
cache_hit() {
	local name=$1 url=$2 hdr=() got
	[[ -n "${3:-}" ]] && hdr=(-H "$3")
	curl -sf -o /dev/null "${hdr[@]}" "$url" || die "$name: GET $url failed (logs in $RUN)"
	got=$(curl -s -D - -o /dev/null "${hdr[@]}" "$url")
	grep -Eqi '^x-cache(-status)?: hit' <<<"$got" || die "$name: a repeated request was not a cache hit (logs in $RUN)"
}

# measure VARIANT CONTENDER ROUND CONNECTIONS: one warm-up and one measured run.
measure() {
	local v=$1 c=$2 r=$3 conns=$4
	local args=(measure --scenario "$SCENARIO" --variant "$v" --contender "$c" --round "$r"
		--pids "${C_PIDS[$c]}" --url "${C_URL[$c]}" --script "$ROOT/bench/wrk/bench.lua"
		--connections "$conns" --duration "$DURATION" --warmup "$WARMUP" --timeout "$TIMEOUT"
		--wrk-cpu 1 --out "$RUNS")
	[[ -n "${C_HEADER[$c]}" ]] && args+=(--header "${C_HEADER[$c]}")
	[[ -n "${C_ORIGIN[$c]}" ]] && args+=(--origin-pid "${C_ORIGIN[$c]}")
	BENCH_PATHS=${C_PATHS[$c]} "$BIN/benchkit" "${args[@]}"
}

# run_rounds VARIANT CONNECTIONS CONTENDER...: check each, then ROUNDS rounds in which the
# contenders take turns (A B A B ...), so drift hits all of them alike.
run_rounds() {
	local v=$1 conns=$2 c r
	shift 2
	for c in "$@"; do
		check_contender "$c"
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for c in "$@"; do
			if [[ "$c" == minio-direct ]]; then
				# MinIO itself is the server under test: it moves to CPU 0 for the run.
				taskset -a -p -c 0 "$MINIO_PID" >/dev/null
				measure "$v" "$c" "$r" "$conns"
				taskset -a -p -c 1 "$MINIO_PID" >/dev/null
			else
				measure "$v" "$c" "$r" "$conns"
			fi
		done
	done
}

# profile VARIANT CONNECTIONS [CONTENDER]: one more run of the contender (gatehouse unless
# named), not measured, with perf sampling its serving process; writes
# profiles/SCENARIO-VARIANT[-CONTENDER].perf.txt and .children.txt.
profile() {
	[[ "$PROFILE" == "1" ]] || return 0
	if ! command -v perf >/dev/null; then
		echo "bench: perf not found: no profile (apt-get install linux-perf)" >&2
		return 0
	fi
	local v=$1 conns=$2 c=${3:-gatehouse} name="$SCENARIO-$1" pid
	[[ "$c" == gatehouse ]] || name+="-$c"
	pid=${C_PIDS[$c]%%,*}
	local secs=${DURATION%s} hdr=()
	[[ -n "${C_HEADER[$c]}" ]] && hdr=(-H "${C_HEADER[$c]}")
	taskset -c 1 perf record -q -F 999 -g -p "$pid" -o "$RUN/profiles/$name.data" -- sleep "$secs" \
		>"$RUN/profiles/$name.record.log" 2>&1 &
	local perf_pid=$!
	track "$perf_pid"
	BENCH_PATHS=${C_PATHS[$c]} taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --timeout "$TIMEOUT" \
		-s "$ROOT/bench/wrk/bench.lua" "${hdr[@]}" "${C_URL[$c]}" >/dev/null
	wait "$perf_pid" || true
	stop_pid "$perf_pid"
	perf_summaries "$name"
}

# perf_summaries NAME: from profiles/NAME.data, the self time of every symbol
# (NAME.perf.txt) and the inclusive time, callees included, of the larger ones
# (NAME.children.txt).
perf_summaries() {
	local name=$1
	perf report -i "$RUN/profiles/$name.data" --stdio --no-children -g none -F overhead,dso,sym \
		--percent-limit 0 >"$RUN/profiles/$name.perf.txt" 2>/dev/null || true
	perf report -i "$RUN/profiles/$name.data" --stdio --children -g none --sort symbol \
		--percent-limit 0.2 >"$RUN/profiles/$name.children.txt" 2>/dev/null || true
	echo "    profile: $RUN/profiles/$name.perf.txt" >&2
}

# --- shared data -------------------------------------------------------------------------

make_shared_data() {
	step "generating the shared test data in $DATA"
	# IP allowlist: AWS's published ranges plus generated ones, 100k in all.
	local aws="" d=$ROOT
	while [[ "$d" != / ]]; do
		if [[ -f "$d/shared/testdata/aws/ip-ranges.json" ]]; then
			aws=$d/shared/testdata/aws/ip-ranges.json
			break
		fi
		d=$(dirname "$d")
	done
	[[ -n "$aws" ]] || echo "bench: shared/testdata/aws/ip-ranges.json not found: all 100k CIDRs are generated" >&2
	"$BIN/benchkit" cidrs ${aws:+--aws "$aws"} --count 100000 --plain "$DATA/cidrs.txt" --nginx "$DATA/geo.conf"
	echo "ip_ranges_source=${aws:-generated}" >"$DATA/sources.txt"
	# One bcrypt htpasswd line for both Basic contenders.
	"$BIN/benchkit" htpasswd --user bench --password bench-password --cost "$BCRYPT_COST" --out "$DATA/htpasswd"
	# A JWT and its key set.
	"$BIN/benchkit" jwt --dir "$DATA" --issuer "$JWT_ISSUER" --audience "$JWT_AUDIENCE"
	# A signing key pair for signed URLs; keygen prints the key ID.
	KEY_ID=$("$BIN/gatehouse" keygen --type rsa --out "$DATA/keys" 2>/dev/null)
	[[ -n "$KEY_ID" ]] || die "gatehouse keygen printed no key ID"
	# A second one, revoked in the fleet scenario.
	KEY2_ID=$("$BIN/gatehouse" keygen --type rsa --out "$DATA/keys2" 2>/dev/null)
	[[ -n "$KEY2_ID" ]] || die "gatehouse keygen printed no key ID"
}

# --- 1. ceiling --------------------------------------------------------------------------

scenario_ceiling() {
	SCENARIO=ceiling
	# nginx reads at most 4 KiB per configuration token, so the body is 4 x 1 KiB.
	local k
	k=$(head -c 1024 /dev/zero | tr '\0' 'x')
	nginx_config nginx-return 18181 "        location / {
            set \$k \"$k\";
            return 200 \"\$k\$k\$k\$k\";
        }"
	start_nginx nginx-return 18181
	reset_contenders
	contender nginx-return "http://127.0.0.1:18181/bench/obj-4k" "$NGINX_PIDS" 4096
	run_rounds 4k "$CONNECTIONS" nginx-return
	stop_all_but_origin
}

# --- 2. public object --------------------------------------------------------------------

scenario_public() {
	SCENARIO=public
	gatehouse_config "$RUN/gatehouse-public.yaml" "    public: true"
	start_gatehouse gatehouse-public "$RUN/gatehouse-public.yaml"
	local gh=$GH_PID
	nginx_config nginx-proxy 18182 "        location /bench/ { proxy_pass http://minio; }"
	start_nginx nginx-proxy 18182
	local proxy=$NGINX_PIDS
	local v
	if [[ "$SMOKE" == "1" ]]; then
		reset_contenders
		contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-4k" "$gh" 4096 "" "" "$MINIO_PID"
		contender nginx-proxy "http://127.0.0.1:18182/bench/obj-4k" "$proxy" 4096 "" "" "$MINIO_PID"
		run_rounds 4k "$CONNECTIONS" gatehouse nginx-proxy
		stop_all_but_origin
		return
	fi
	nginx_config nginx-cache 18183 "        location /bench/ {
            proxy_cache bench;
            proxy_cache_valid 200 10m;
            proxy_cache_lock on;
            add_header X-Cache-Status \$upstream_cache_status;
            proxy_pass http://minio;
        }" "    proxy_cache_path $RUN/nginx-cache/cache levels=1:2 keys_zone=bench:10m max_size=2g inactive=60m use_temp_path=off;"
	start_nginx nginx-cache 18183
	local cache=$NGINX_PIDS
	# gatehouse with its edge cache (memory tier), beside nginx proxy_cache.
	GH_PORT=18081 GH_ADMIN_PORT=18091 gatehouse_config "$RUN/gatehouse-cache.yaml" "    public: true
    cache: {policy: optimized}" "cache:
  memory: {max_size: 64MiB}"
	GH_PORT=18081 GH_ADMIN_PORT=18091 start_gatehouse gatehouse-cache "$RUN/gatehouse-cache.yaml"
	local ghc=$GH_PID
	cache_hit public/gatehouse-cache "http://127.0.0.1:18081/bench/obj-4k"
	cache_hit public/nginx-cache "http://127.0.0.1:18183/bench/obj-4k"
	for v in 4k 1k 64k 1m; do
		reset_contenders
		local size
		size=$(object_size "$v")
		contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-$v" "$gh" "$size" "" "" "$MINIO_PID"
		contender nginx-proxy "http://127.0.0.1:18182/bench/obj-$v" "$proxy" "$size" "" "" "$MINIO_PID"
		if [[ "$v" == 4k ]]; then
			contender nginx-cache "http://127.0.0.1:18183/bench/obj-$v" "$cache" "$size" "" "" "$MINIO_PID"
			contender gatehouse-cache "http://127.0.0.1:18081/bench/obj-$v" "$ghc" "$size" "" "" "$MINIO_PID"
			run_rounds "$v" "$CONNECTIONS" gatehouse nginx-proxy gatehouse-cache nginx-cache
			profile "$v" "$CONNECTIONS" gatehouse-cache
		else
			run_rounds "$v" "$CONNECTIONS" gatehouse nginx-proxy
		fi
		profile "$v" "$CONNECTIONS"
	done
	stop_all_but_origin
}

# --- 3. signed URL -----------------------------------------------------------------------

scenario_signed() {
	SCENARIO=signed
	local keys="key_groups:
  bench:
    keys:
      - id: $KEY_ID
        file: $DATA/keys/public.pem" signed="    auth:
      methods:
        - signed:
            key_groups: [bench]"
	gatehouse_config "$RUN/gatehouse-signed.yaml" "$signed" "$keys"
	start_gatehouse gatehouse-signed "$RUN/gatehouse-signed.yaml"
	local gh=$GH_PID
	local secret=bench-secure-link-secret
	local check="            secure_link \$arg_md5,\$arg_expires;
            secure_link_md5 \"\$secure_link_expires\$uri $secret\";
            if (\$secure_link = \"\") { return 403; }
            if (\$secure_link = \"0\") { return 410; }"
	nginx_config nginx-securelink 18184 "        location /bench/ {
$check
            proxy_pass http://minio;
        }"
	start_nginx nginx-securelink 18184
	local sl=$NGINX_PIDS n v c
	# The same two with their caches. Both check the signature on every request, hits
	# included (secure_link runs before the cache, as gatehouse's policy does), and both key
	# the cache on the path alone: the signature parameters are not part of the key.
	GH_PORT=18081 GH_ADMIN_PORT=18091 gatehouse_config "$RUN/gatehouse-signed-cache.yaml" "$signed
    cache: {policy: optimized}" "$keys
cache:
  memory: {max_size: 64MiB}"
	GH_PORT=18081 GH_ADMIN_PORT=18091 start_gatehouse gatehouse-signed-cache "$RUN/gatehouse-signed-cache.yaml"
	local ghc=$GH_PID
	nginx_config nginx-securelink-cache 18188 "        location /bench/ {
$check
            proxy_cache bench;
            proxy_cache_key \$scheme\$proxy_host\$uri;
            proxy_cache_valid 200 10m;
            proxy_cache_lock on;
            add_header X-Cache-Status \$upstream_cache_status;
            proxy_pass http://minio;
        }" "    proxy_cache_path $RUN/nginx-securelink-cache/cache levels=1:2 keys_zone=bench:10m max_size=2g inactive=60m use_temp_path=off;"
	start_nginx nginx-securelink-cache 18188
	local slc=$NGINX_PIDS
	for c in "http://127.0.0.1:$GH_PORT/bench/obj-4k" "http://127.0.0.1:18184/bench/obj-4k" \
		"http://127.0.0.1:18081/bench/obj-4k" "http://127.0.0.1:18188/bench/obj-4k"; do
		[[ "$(curl -s -o /dev/null -w '%{http_code}' "$c")" != 200 ]] || die "signed: $c without a signature answered 200"
	done
	for n in 1 1000; do
		v=1-url
		((n > 1)) && v=$n-urls
		# gatehouse's signatures cover the URL's host, so each gatehouse port has its own.
		for c in "$GH_PORT" 18081; do
			"$BIN/benchkit" signed --key "$DATA/keys/private.pem" --key-id "$KEY_ID" \
				--url "http://127.0.0.1:$c/bench/obj-4k" --count "$n" --out "$DATA/signed-$c-$n.txt"
		done
		"$BIN/benchkit" securelink --secret "$secret" --path /bench/obj-4k --count "$n" --out "$DATA/securelink-$n.txt"
		reset_contenders
		if ((n == 1)); then
			# One URL: wrk's own fast path, no request() in Lua.
			contender gatehouse "http://127.0.0.1:$GH_PORT$(cat "$DATA/signed-$GH_PORT-1.txt")" "$gh" 4096 "" "" "$MINIO_PID"
			contender nginx-securelink "http://127.0.0.1:18184$(cat "$DATA/securelink-1.txt")" "$sl" 4096 "" "" "$MINIO_PID"
			contender gatehouse-cache "http://127.0.0.1:18081$(cat "$DATA/signed-18081-1.txt")" "$ghc" 4096 "" "" "$MINIO_PID"
			contender nginx-securelink-cache "http://127.0.0.1:18188$(cat "$DATA/securelink-1.txt")" "$slc" 4096 "" "" "$MINIO_PID"
		else
			contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-4k" "$gh" 4096 "" "$DATA/signed-$GH_PORT-$n.txt" "$MINIO_PID"
			contender nginx-securelink "http://127.0.0.1:18184/bench/obj-4k" "$sl" 4096 "" "$DATA/securelink-$n.txt" "$MINIO_PID"
			contender gatehouse-cache "http://127.0.0.1:18081/bench/obj-4k" "$ghc" 4096 "" "$DATA/signed-18081-$n.txt" "$MINIO_PID"
			contender nginx-securelink-cache "http://127.0.0.1:18188/bench/obj-4k" "$slc" 4096 "" "$DATA/securelink-$n.txt" "$MINIO_PID"
		fi
		if ((n == 1)); then
			cache_hit signed/gatehouse-cache "${C_URL[gatehouse-cache]}"
			cache_hit signed/nginx-securelink-cache "${C_URL[nginx-securelink-cache]}"
		fi
		run_rounds "$v" "$CONNECTIONS" gatehouse nginx-securelink gatehouse-cache nginx-securelink-cache
		profile "$v" "$CONNECTIONS"
		profile "$v" "$CONNECTIONS" gatehouse-cache
	done
	stop_all_but_origin
}

# --- 4. basic auth -----------------------------------------------------------------------

scenario_basic() {
	SCENARIO=basic
	gatehouse_config "$RUN/gatehouse-basic.yaml" "    auth:
      methods:
        - basic:
            htpasswd_file: $DATA/htpasswd"
	start_gatehouse gatehouse-basic "$RUN/gatehouse-basic.yaml"
	local gh=$GH_PID
	nginx_config nginx-basic 18185 "        location /bench/ {
            auth_basic bench;
            auth_basic_user_file $DATA/htpasswd;
            proxy_pass http://minio;
        }"
	start_nginx nginx-basic 18185
	local auth
	auth="Authorization: Basic $(printf 'bench:bench-password' | base64)"
	reset_contenders
	contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-4k" "$gh" 4096 "$auth" "" "$MINIO_PID"
	contender nginx-basic "http://127.0.0.1:18185/bench/obj-4k" "$NGINX_PIDS" 4096 "$auth" "" "$MINIO_PID"
	run_rounds 4k "$CONNECTIONS" gatehouse nginx-basic
	profile 4k "$CONNECTIONS"
	profile 4k "$CONNECTIONS" nginx-basic
	stop_all_but_origin
}

# --- 5. JWT bearer -----------------------------------------------------------------------

scenario_jwt() {
	SCENARIO=jwt
	start_jwks
	gatehouse_config "$RUN/gatehouse-jwt.yaml" "    auth:
      methods:
        - jwt:
            issuer: $JWT_ISSUER
            jwks_url: http://127.0.0.1:$JWKS_PORT/jwks.json
            audiences: [$JWT_AUDIENCE]"
	start_gatehouse gatehouse-jwt "$RUN/gatehouse-jwt.yaml"
	local gh=$GH_PID
	start_oauth2_proxy
	local auth
	auth="Authorization: Bearer $(cat "$DATA/token.txt")"
	reset_contenders
	contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-4k" "$gh" 4096 "$auth" "" "$MINIO_PID"
	contender oauth2-proxy "http://127.0.0.1:$O2P_PORT/bench/obj-4k" "$O2P_PID" 4096 "$auth" "" "$MINIO_PID"
	run_rounds 4k "$CONNECTIONS" gatehouse oauth2-proxy
	profile 4k "$CONNECTIONS"
	profile 4k "$CONNECTIONS" oauth2-proxy
	stop_all_but_origin
}

# --- 6. large object ---------------------------------------------------------------------

scenario_large() {
	SCENARIO=large
	gatehouse_config "$RUN/gatehouse-large.yaml" "    public: true"
	start_gatehouse gatehouse-large "$RUN/gatehouse-large.yaml"
	local gh=$GH_PID
	nginx_config nginx-proxy-large 18187 "        location /bench/ { proxy_pass http://minio; }"
	start_nginx nginx-proxy-large 18187
	reset_contenders
	local size
	size=$(object_size 1g)
	contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-1g" "$gh" "$size" "" "" "$MINIO_PID"
	contender nginx-proxy "http://127.0.0.1:18187/bench/obj-1g" "$NGINX_PIDS" "$size" "" "" "$MINIO_PID"
	contender minio-direct "$MINIO_URL/$BUCKET/obj-1g" "$MINIO_PID" "$size"
	run_rounds 1g "$LARGE_CONNECTIONS" gatehouse nginx-proxy minio-direct
	profile 1g "$LARGE_CONNECTIONS"
	profile 1g "$LARGE_CONNECTIONS" nginx-proxy
	stop_all_but_origin
}

# --- 8. Range requests on the 1 GiB object (issue 6) ---------------------------------------

# scenario_range: 1,000 ranges of 1 MiB at random offsets in the 1 GiB object (a video
# player seeking), requests cycling through them. Uncached, both proxies pass the Range to
# MinIO; cached, both keep the object in 1 MiB slices (gatehouse's slice_size, nginx's
# slice module, which is how nginx's own S3 gateway caches ranges) and were filled
# beforehand by one whole-object GET, so every measured request is a hit.
scenario_range() {
	SCENARIO=range
	local size len=$((1 << 20))
	size=$(object_size 1g)
	"$BIN/benchkit" ranges --path /bench/obj-1g --size "$size" --length "$len" --count 1000 --out "$DATA/ranges.txt"
	gatehouse_config "$RUN/gatehouse-range.yaml" "    public: true"
	start_gatehouse gatehouse-range "$RUN/gatehouse-range.yaml"
	local gh=$GH_PID
	nginx_config nginx-proxy-range 18189 "        location /bench/ { proxy_pass http://minio; }"
	start_nginx nginx-proxy-range 18189
	local proxy=$NGINX_PIDS
	GH_PORT=18081 GH_ADMIN_PORT=18091 gatehouse_config "$RUN/gatehouse-range-cache.yaml" "    public: true
    cache: {policy: optimized}" "cache:
  memory: {max_size: 256MiB}
  disk: {path: $RUN/gatehouse-range-cache/disk, max_size: 4GiB}
  slice_size: 1MiB"
	GH_PORT=18081 GH_ADMIN_PORT=18091 start_gatehouse gatehouse-range-cache "$RUN/gatehouse-range-cache.yaml"
	local ghc=$GH_PID
	nginx_config nginx-slice 18190 "        location /bench/ {
            slice 1m;
            proxy_cache bench;
            proxy_cache_key \$scheme\$proxy_host\$uri\$slice_range;
            proxy_set_header Range \$slice_range;
            proxy_cache_valid 200 206 10m;
            proxy_cache_lock on;
            add_header X-Cache-Status \$upstream_cache_status;
            proxy_pass http://minio;
        }" "    proxy_cache_path $RUN/nginx-slice/cache levels=1:2 keys_zone=bench:10m max_size=4g inactive=60m use_temp_path=off;"
	start_nginx nginx-slice 18190
	local slice=$NGINX_PIDS c hit
	for c in 18081 18190; do
		curl -sf -o /dev/null "http://127.0.0.1:$c/bench/obj-1g" || die "range: filling the cache on port $c failed"
	done
	# Both must now answer ranges from their caches, or the rows compare a cache with a proxy.
	cache_hit range/gatehouse-cache "http://127.0.0.1:18081/bench/obj-1g" "$(cut -f2 <"$DATA/ranges.txt" | head -n1)"
	cache_hit range/nginx-slice "http://127.0.0.1:18190/bench/obj-1g" "$(cut -f2 <"$DATA/ranges.txt" | head -n1)"
	reset_contenders
	contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-1g" "$gh" "$len" "" "$DATA/ranges.txt" "$MINIO_PID"
	contender nginx-proxy "http://127.0.0.1:18189/bench/obj-1g" "$proxy" "$len" "" "$DATA/ranges.txt" "$MINIO_PID"
	contender gatehouse-cache "http://127.0.0.1:18081/bench/obj-1g" "$ghc" "$len" "" "$DATA/ranges.txt" "$MINIO_PID"
	contender nginx-slice "http://127.0.0.1:18190/bench/obj-1g" "$slice" "$len" "" "$DATA/ranges.txt" "$MINIO_PID"
	for c in gatehouse nginx-proxy gatehouse-cache nginx-slice; do
		C_STATUS[$c]=206
	done
	run_rounds 1m "$CONNECTIONS" gatehouse nginx-proxy gatehouse-cache nginx-slice
	profile 1m "$CONNECTIONS"
	profile 1m "$CONNECTIONS" gatehouse-cache
	profile 1m "$CONNECTIONS" nginx-slice
	stop_all_but_origin
}

# --- 7. IP allowlist ---------------------------------------------------------------------

scenario_ip() {
	SCENARIO=ip
	gatehouse_config "$RUN/gatehouse-ip.yaml" "    auth:
      methods:
        - ip:
            files: [$DATA/cidrs.txt]"
	start_gatehouse gatehouse-ip "$RUN/gatehouse-ip.yaml"
	local gh=$GH_PID
	nginx_config nginx-geo 18186 "        location /bench/ {
            if (\$bench_allowed = 0) { return 403; }
            proxy_pass http://minio;
        }" "    geo \$bench_allowed {
        default 0;
        include $DATA/geo.conf;
    }"
	start_nginx nginx-geo 18186
	reset_contenders
	contender gatehouse "http://127.0.0.1:$GH_PORT/bench/obj-4k" "$gh" 4096 "" "" "$MINIO_PID"
	contender nginx-geo "http://127.0.0.1:18186/bench/obj-4k" "$NGINX_PIDS" 4096 "" "" "$MINIO_PID"
	run_rounds 4k "$CONNECTIONS" gatehouse nginx-geo
	profile 4k "$CONNECTIONS"
	stop_all_but_origin
}

# --- 9. uploads (issue 14) ----------------------------------------------------------------

# Upload contenders: the upload client's arguments (credentials, --chunked), by name.
declare -A C_CLIENT

# scenario_upload: one 1 GiB PUT per run (after a 64 MiB warm-up PUT), all from benchkit's
# upload client, pinned to CPU 1 beside MinIO as wrk is: to gatehouse (Basic auth with
# scenario 4's htpasswd line; a known length over 16 MiB goes to MinIO as a multipart
# upload of 8 MiB parts), to gatehouse again with the body chunked (no Content-Length),
# to nginx `proxy_pass` (the client signs for S3, nginx passes the signature and the Host
# it covers; `proxy_request_buffering off` streams the body as it comes, instead of
# spooling all of it to a temporary file first, and `client_max_body_size 0` lifts the
# 1 MiB default), and to MinIO itself (moved to CPU 0 for its run). All write one key.
scenario_upload() {
	SCENARIO=upload
	local size key=upload-1g c r got
	size=$(object_size 1g)
	gatehouse_config "$RUN/gatehouse-upload.yaml" "    methods: [GET, HEAD, PUT]
    auth:
      methods:
        - basic:
            htpasswd_file: $DATA/htpasswd
    upload:
      max_size: 2GiB"
	start_gatehouse gatehouse-upload "$RUN/gatehouse-upload.yaml"
	local gh=$GH_PID
	# proxy_set_header here replaces the http block's, Authorization "" included.
	nginx_config nginx-proxy-upload 18191 "        location /bench/ {
            client_max_body_size 0;
            proxy_request_buffering off;
            proxy_set_header Connection \"\";
            proxy_set_header Host \$http_host;
            proxy_pass http://minio;
        }"
	start_nginx nginx-proxy-upload 18191
	local basic="--basic=bench:bench-password" sig="--sigv4=$MINIO_USER:$MINIO_PASSWORD"
	reset_contenders
	C_CLIENT=()
	contender gatehouse "http://127.0.0.1:$GH_PORT/$BUCKET/$key" "$gh" "$size" "" "" "$MINIO_PID"
	contender gatehouse-chunked "http://127.0.0.1:$GH_PORT/$BUCKET/$key" "$gh" "$size" "" "" "$MINIO_PID"
	contender nginx-proxy "http://127.0.0.1:18191/$BUCKET/$key" "$NGINX_PIDS" "$size" "" "" "$MINIO_PID"
	contender minio-direct "$MINIO_URL/$BUCKET/$key" "$MINIO_PID" "$size"
	C_CLIENT=([gatehouse]="$basic" [gatehouse-chunked]="$basic --chunked" [nginx-proxy]="$sig" [minio-direct]="$sig")
	# Checks: without credentials nothing is stored; with them a small PUT is.
	head -c 4096 /dev/urandom >"$DATA/upload-check"
	for c in gatehouse nginx-proxy minio-direct; do
		got=$(curl -s -o /dev/null -w '%{http_code}' -T "$DATA/upload-check" "${C_URL[$c]%/*}/upload-check" || true)
		[[ "$got" == 401 || "$got" == 403 ]] || die "upload/$c: a PUT without credentials answered '$got', want 401 or 403"
		upload_once "$c" --size 1048576 --url "${C_URL[$c]%/*}/upload-check" ||
			die "upload/$c: a 1 MiB PUT failed (logs in $RUN)"
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for c in gatehouse gatehouse-chunked nginx-proxy minio-direct; do
			if [[ "$c" == minio-direct ]]; then
				taskset -a -p -c 0 "$MINIO_PID" >/dev/null
				measure_upload 1g "$c" "$r"
				taskset -a -p -c 1 "$MINIO_PID" >/dev/null
			else
				measure_upload 1g "$c" "$r"
			fi
		done
	done
	got=$(s3 -o /dev/null -I -w '%{http_code} %header{content-length}' "$MINIO_URL/$BUCKET/$key")
	[[ "$got" == "200 $size" ]] || die "upload: $BUCKET/$key in MinIO is '$got' after the rounds, want '200 $size'"
	profile_upload 1g gatehouse
	profile_upload 1g nginx-proxy
	profile_upload 1g minio-direct
	s3 -o /dev/null -X DELETE "$MINIO_URL/$BUCKET/$key"
	s3 -o /dev/null -X DELETE "$MINIO_URL/$BUCKET/upload-check"
	stop_all_but_origin
}

# upload_once CONTENDER ARGS...: one unmeasured PUT by the upload client, with the
# contender's credentials (ARGS: --size, --url, ...).
upload_once() {
	local c=$1 extra
	shift
	read -r -a extra <<<"${C_CLIENT[$c]}"
	taskset -c 1 "$BIN/benchkit" upload --url "${C_URL[$c]}" --size "${C_SIZE[$c]}" "${extra[@]}" "$@"
}

# measure_upload VARIANT CONTENDER ROUND: a warm-up PUT and one measured PUT (benchkit
# flushes the page cache's dirty pages to disk before the measured one).
measure_upload() {
	local v=$1 c=$2 r=$3 args
	# What earlier PUTs overwrote sits in MinIO's trash until its next start; with a few
	# GiB there, MinIO's own writes slow down (seen: direct PUTs from 335 to under 200
	# MiB/s after about 5 GiB, back at once when it was emptied), so every contender's
	# later rounds measured the trash. Emptied before each measured PUT.
	rm -rf "$MINIO_DATA/.minio.sys/tmp/.trash"
	args=(--scenario "$SCENARIO" --variant "$v" --contender "$c" --round "$r"
		--pids "${C_PIDS[$c]}" --out "$RUNS")
	if [[ -n "${C_ORIGIN[$c]}" ]]; then
		args+=(--origin-pid "${C_ORIGIN[$c]}")
	fi
	upload_once "$c" "${args[@]}"
}

# profile_upload VARIANT CONTENDER: one more PUT, not measured, with perf sampling the
# contender's serving process from before the PUT starts until it ends.
profile_upload() {
	[[ "$PROFILE" == "1" ]] || return 0
	command -v perf >/dev/null || return 0
	local v=$1 c=$2 name="$SCENARIO-$1" perf_pid
	[[ "$c" == gatehouse ]] || name+="-$c"
	taskset -c 1 perf record -q -F 999 -g -p "${C_PIDS[$c]%%,*}" -o "$RUN/profiles/$name.data" \
		>"$RUN/profiles/$name.record.log" 2>&1 &
	perf_pid=$!
	track "$perf_pid"
	rm -rf "$MINIO_DATA/.minio.sys/tmp/.trash" # as measure_upload does
	sync
	sleep 1 # perf attaches
	[[ "$c" != minio-direct ]] || taskset -a -p -c 0 "$MINIO_PID" >/dev/null
	upload_once "$c" || echo "bench: the profiled PUT to $c failed" >&2
	[[ "$c" != minio-direct ]] || taskset -a -p -c 1 "$MINIO_PID" >/dev/null
	kill -INT "$perf_pid" 2>/dev/null || true
	wait "$perf_pid" || true
	stop_pid "$perf_pid"
	perf_summaries "$name"
}

# --- 10. a fleet on Redis (issue 16) ------------------------------------------------------

# scenario_fleet: two measurements of gatehouse on one Redis.
#
# The cost of the fleet's checks on a cached hit: scenario 3's signed URL with the cache
# (a 4 KiB hit), A/B in the same rounds, gatehouse-cache with no redis section against
# gatehouse-fleet with one and a route rate_limit by client too high to trigger. Both
# have the same key group, cache and admin token, so the difference is the revocation
# check a signed URL gets on every request and the rate-limit count. Two revocations are
# stored first, so the list is not empty: a second key of the group (a URL it signed must
# then be refused, which shows the check is live) and a policy hash no URL has.
#
# Propagation: two more replicas join the same Redis, each fills its cache with the
# object, and one (each in turn) is told to invalidate it; benchkit fleet-invalidate
# times POST /cache/invalidate until its answer, which comes once every live replica has
# applied it (the server polls its replica table every 10 ms, for at most 2 s).
scenario_fleet() {
	SCENARIO=fleet
	start_redis
	local keys="key_groups:
  bench:
    keys:
      - id: $KEY_ID
        file: $DATA/keys/public.pem
      - id: $KEY2_ID
        file: $DATA/keys2/public.pem" route="    auth:
      methods:
        - signed:
            key_groups: [bench]
    cache: {policy: optimized}" admin="  token: \${BENCH_ADMIN_TOKEN}"
	local cache="cache:
  memory: {max_size: 64MiB}" redis="redis:
  addresses: [127.0.0.1:$REDIS_PORT]
  key_prefix: gatehouse-bench
  replicas: 3"
	local limit="    rate_limit: {requests: 1000000000, per: 1s, by: client}"
	GH_PORT=18081 GH_ADMIN_PORT=18091 gatehouse_config "$RUN/gatehouse-fleet-base.yaml" "$route" "$keys
$cache" "$admin"
	GH_PORT=18081 GH_ADMIN_PORT=18091 start_gatehouse gatehouse-fleet-base "$RUN/gatehouse-fleet-base.yaml"
	local base=$GH_PID port replica=1 fleet_pids=()
	for port in 18082 18083 18084; do
		GH_PORT=$port GH_ADMIN_PORT=$((port + 10)) gatehouse_config "$RUN/gatehouse-fleet-$replica.yaml" "$route
$limit" "$keys
$cache
$redis" "$admin"
		"$BIN/benchkit" signed --key "$DATA/keys/private.pem" --key-id "$KEY_ID" \
			--url "http://127.0.0.1:$port/bench/obj-4k" --count 1 --out "$DATA/signed-$port-1.txt"
		replica=$((replica + 1))
	done
	"$BIN/benchkit" signed --key "$DATA/keys/private.pem" --key-id "$KEY_ID" \
		--url "http://127.0.0.1:18081/bench/obj-4k" --count 1 --out "$DATA/signed-18081-1.txt"
	"$BIN/benchkit" signed --key "$DATA/keys2/private.pem" --key-id "$KEY2_ID" \
		--url "http://127.0.0.1:18082/bench/obj-4k" --count 1 --out "$DATA/signed-key2-18082.txt"
	GH_PORT=18082 GH_ADMIN_PORT=18092 start_gatehouse gatehouse-fleet-1 "$RUN/gatehouse-fleet-1.yaml"
	fleet_pids+=("$GH_PID")
	fleet_revocations 18092 "http://127.0.0.1:18082$(cat "$DATA/signed-key2-18082.txt")"
	reset_contenders
	contender gatehouse-cache "http://127.0.0.1:18081$(cat "$DATA/signed-18081-1.txt")" "$base" 4096 "" "" "$MINIO_PID"
	contender gatehouse-fleet "http://127.0.0.1:18082$(cat "$DATA/signed-18082-1.txt")" "${fleet_pids[0]}" 4096 "" "" "$MINIO_PID"
	cache_hit fleet/gatehouse-cache "${C_URL[gatehouse-cache]}"
	cache_hit fleet/gatehouse-fleet "${C_URL[gatehouse-fleet]}"
	run_rounds 4k "$CONNECTIONS" gatehouse-cache gatehouse-fleet
	profile 4k "$CONNECTIONS" gatehouse-cache
	profile 4k "$CONNECTIONS" gatehouse-fleet
	stop_pid "$base"
	# Propagation across three replicas.
	GH_PORT=18083 GH_ADMIN_PORT=18093 start_gatehouse gatehouse-fleet-2 "$RUN/gatehouse-fleet-2.yaml"
	fleet_pids+=("$GH_PID")
	GH_PORT=18084 GH_ADMIN_PORT=18094 start_gatehouse gatehouse-fleet-3 "$RUN/gatehouse-fleet-3.yaml"
	fleet_pids+=("$GH_PID")
	local admins="" fills=""
	for port in 18082 18083 18084; do
		admins+="${admins:+,}http://127.0.0.1:$((port + 10))"
		fills+="${fills:+,}http://127.0.0.1:$port$(cat "$DATA/signed-$port-1.txt")"
	done
	BENCH_ADMIN_TOKEN=$ADMIN_TOKEN "$BIN/benchkit" fleet-invalidate --admin "$admins" --fill "$fills" \
		--path /bench/obj-4k --count "$FLEET_INVALIDATIONS" --out "$RUN/fleet.json" ||
		echo "bench: fleet: the invalidation timing failed (logs in $RUN); the report has no propagation figure" >&2
	stop_all_but_origin
}

# fleet_revocations ADMIN_PORT REVOKED_URL: stores the fleet scenario's two revocations
# through the admin API (key KEY2_ID, and a policy hash no URL has), then checks that
# REVOKED_URL (signed by KEY2_ID) is refused with 403. Writes what happened to fleet-meta.txt: a
# revocation API that is not there yet is reported, not fatal (the rounds then measure
# the rate limit and an empty revocation list).
fleet_revocations() {
	local admin=http://127.0.0.1:$1 url=$2 n=0 note="" code body policy
	policy=$(printf 'bench: a policy no request uses' | sha256sum | cut -d' ' -f1)
	for body in "{\"kind\":\"key\",\"value\":\"$KEY2_ID\",\"reason\":\"bench: a key no measured URL uses\"}" \
		"{\"kind\":\"policy\",\"value\":\"$policy\",\"reason\":\"bench: a policy no measured URL has\"}"; do
		code=$(curl -s -o "$RUN/fleet-revoke.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
			-H 'Content-Type: application/json' --data "$body" "$admin/revocations" || true)
		if [[ "$code" == 201 ]]; then
			n=$((n + 1))
		else
			note="POST /revocations answered $code: $(head -c 200 "$RUN/fleet-revoke.out" | tr -d '\n')"
		fi
	done
	if ((n > 0)); then
		# The replica applies a revocation when it reads the stream: give it a moment.
		local i
		for ((i = 0; i < 50; i++)); do
			code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
			[[ "$code" == 200 ]] || break
			sleep 0.1
		done
		if [[ "$code" == 200 ]]; then
			note="revocations stored, but a URL signed by the revoked key still answered 200: the signed check does not see them yet"
		elif [[ "$code" != 403 ]]; then
			note="a URL signed by the revoked key answered $code, not 403 (logs in $RUN)"
		fi
	fi
	[[ -z "$note" ]] || echo "bench: fleet: $note" >&2
	printf 'revocations=%s\nrevocation_note=%s\n' "$n" "$note" >"$RUN/fleet-meta.txt"
}

# stop_all_but_origin: the scenario's servers stop; MinIO goes on.
stop_all_but_origin() {
	local p
	for p in "${PIDS[@]}"; do
		[[ "$p" == "$MINIO_PID" ]] || stop_pid "$p"
	done
}

# --- micro-benchmarks ----------------------------------------------------------------------

# run_micro: the hot-path benchmarks of the suite, each test binary pinned to CPU 0 with
# GOMAXPROCS=1, and a CPU profile of BenchmarkServeSmallObject (the whole handler).
run_micro() {
	local pkgs=(./internal/route ./internal/auth/basicauth ./internal/auth/jwtauth
		./internal/auth/ipauth ./cfsign ./internal/gateway) p bin
	: >"$RUN/micro.txt"
	for p in "${pkgs[@]}"; do
		bin="$BIN/$(basename "$p").test"
		go test -c -o "$bin" "$p" >>"$RUN/micro.log" 2>&1 || return 1
		(cd "$p" && GOMAXPROCS=1 taskset -c 0 "$bin" -test.run '^$' -test.bench . -test.benchmem \
			-test.benchtime "${MICRO_BENCHTIME:-1s}") >>"$RUN/micro.txt" 2>>"$RUN/micro.log" || return 1
	done
	(cd internal/gateway && GOMAXPROCS=1 taskset -c 0 "$BIN/gateway.test" -test.run '^$' \
		-test.bench '^BenchmarkServeSmallObject$' -test.benchtime 3s \
		-test.cpuprofile "$RUN/profiles/handler.pprof") >>"$RUN/micro.log" 2>&1 || return 1
	go tool pprof -top -nodecount=20 "$BIN/gateway.test" "$RUN/profiles/handler.pprof" \
		>"$RUN/profiles/handler-flat.pprof.txt" 2>>"$RUN/micro.log"
	go tool pprof -top -cum -nodecount=25 -hide '^(runtime|testing)\.' "$BIN/gateway.test" "$RUN/profiles/handler.pprof" \
		>"$RUN/profiles/handler-cum.pprof.txt" 2>>"$RUN/micro.log"
}

# write_meta: the machine and the run, as key=value lines for the report.
write_meta() {
	local cmd="" v
	for v in DURATION CONNECTIONS LARGE_CONNECTIONS ROUNDS WARMUP BCRYPT_COST; do
		cmd+="$v=${!v} "
	done
	[[ "$FULL" == "1" || "$SMOKE" == "1" ]] || cmd+="SCENARIOS=\"$SCENARIOS\" "
	[[ "$FLEET_INVALIDATIONS" == 20 ]] || cmd+="FLEET_INVALIDATIONS=$FLEET_INVALIDATIONS "
	[[ -n "$GATEHOUSE_ENV" ]] && cmd="GATEHOUSE_ENV=\"$GATEHOUSE_ENV\" $cmd"
	[[ "$SMOKE" == "1" ]] && cmd="SMOKE=1 $cmd"
	echo "command=${cmd}./bench/run"
	local kind=partial
	[[ "$FULL" == "1" ]] && kind=full
	[[ "$SMOKE" == "1" ]] && kind=smoke
	echo "kind=$kind"
	echo "load_before=$LOAD_BEFORE"
	echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
	echo "seconds=$((T_END - T_START))"
	echo "cpu_model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
	echo "nproc=$(nproc --all)"
	echo "hypervisor=$(lscpu | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | head -n1)"
	echo "memory=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
	echo "kernel=$(uname -sr)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "go=$(go env GOVERSION)"
	echo "gatehouse=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- cmd internal cfsign go.mod 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "nginx=$(nginx -v 2>&1 | sed 's/^nginx version: //')"
	echo "wrk=$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
	echo "minio=$MINIO_VERSION"
	echo "oauth2_proxy=$OAUTH2_PROXY_VERSION"
	echo "redis=$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
	echo "ip_ranges=$(sed -n 's/^ip_ranges_source=//p' "$DATA/sources.txt" | sed "s|^$ROOT/||")"
	echo "scenarios=$SCENARIOS"
	echo "rounds=$ROUNDS"
	echo "bcrypt_cost=$BCRYPT_COST"
}
