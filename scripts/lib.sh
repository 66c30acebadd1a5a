# Shared by scripts/test and bench/run: where pinned tools live and how they are installed.
# Source it after setting CACHE (the tool cache, default ~/.cache/gatehouse); it defines
# step, install and install_exact, and the pinned MinIO version both scripts use.
# shellcheck shell=bash

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
mkdir -p "$CACHE/bin"

step() { printf '\n==> %s\n' "$*" >&2; }

# install NAME MODULE VERSION: go install a pinned tool into $CACHE/bin, once per version.
install() {
	local name=$1 module=$2 version=$3 stamp="$CACHE/bin/$1.version"
	if [[ -x "$CACHE/bin/$name" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
		return
	fi
	step "installing $name $version into $CACHE/bin (once per version)"
	GOBIN="$CACHE/bin" go install "$module@$version"
	echo "$version" >"$stamp"
}

# install_exact NAME MODULE VERSION: like install, for a module whose version list the
# module proxy refuses to serve (403). `go install MODULE@VERSION` reads that list to
# look for a deprecation notice and stops when it cannot, even for an exact version; so
# the exact version is downloaded first and the module cache, which then lists it, is
# consulted before the usual proxy. The build is the same: the module's own go.mod
# decides every dependency.
install_exact() {
	local name=$1 module=$2 version=$3 stamp="$CACHE/bin/$1.version"
	if [[ -x "$CACHE/bin/$name" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
		return
	fi
	step "installing $name $version into $CACHE/bin (once per version)"
	local tmp modcache
	tmp=$(mktemp -d) # outside any module, so no go.mod or go.sum is touched
	(cd "$tmp" && go mod download "$module@$version")
	rmdir "$tmp"
	modcache=$(go env GOMODCACHE)
	GOBIN="$CACHE/bin" GOPROXY="file://$modcache/cache/download,$(go env GOPROXY)" \
		go install "$module@$version"
	echo "$version" >"$stamp"
}

# debian_package COMMAND PACKAGE [WHY]: apt-get install PACKAGE when COMMAND is not on
# PATH (as root, or through sudo -n when that works).
debian_package() {
	local cmd=$1 pkg=$2 why=${3:-}
	command -v "$cmd" >/dev/null && return
	step "installing Debian's $pkg package${why:+ ($why)}"
	local sudo=""
	[[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo="sudo -n"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
}
