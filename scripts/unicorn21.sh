#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fetch Debian 13's Unicorn 2.1 (libunicorn2t64, libunicorn-dev) into a cache
# inside the tree, without installing or upgrading any system package:
# apt-get download runs against a private sources list and state directory
# (the mirror is the one this machine's own apt sources name), then dpkg -x
# unpacks the two .deb files.  Debian 12's Unicorn 2.0.1 takes a slow path
# on every guest store and ignores guest page tables (DESIGN.md section 10);
# 2.1.1 needs only libc6 >= 2.34.
#   scripts/unicorn21.sh [DIR]   DIR defaults to .cache/unicorn; prints DIR
# Idempotent: nothing is fetched when DIR already holds the library.
set -eu
cd "$(dirname "$0")/.."
dest=${1:-.cache/unicorn}
case "$dest" in /*) ;; *) dest="$PWD/$dest" ;; esac
if [ -f "$dest/usr/include/unicorn/unicorn.h" ] && ls "$dest"/usr/lib/*/libunicorn.so.2 >/dev/null 2>&1; then
	echo "$dest"
	exit 0
fi

# The Debian mirror from this machine's apt sources (one-line or deb822).
mirror=""
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f" |
		grep -v -- '-security' | head -n 1 || true)
	[ -n "$m" ] && { mirror=$m; break; }
done
if [ -z "$mirror" ]; then
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		m=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" | grep -v -- '-security' |
			grep '/debian/*$' | head -n 1 || true)
		[ -n "$m" ] && { mirror=$m; break; }
	done
fi
if [ -z "$mirror" ]; then
	echo "unicorn21: no Debian mirror found in /etc/apt sources" >&2
	exit 1
fi

arch=$(dpkg --print-architecture)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/parts" "$tmp/prefs"
keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg
[ -f "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [arch=$arch signed-by=$keyring] $mirror trixie main" >"$tmp/sources.list"
cat >"$tmp/apt.conf" <<CONF
Dir::Etc::sourcelist "$tmp/sources.list";
Dir::Etc::sourceparts "$tmp/parts";
Dir::Etc::preferencesparts "$tmp/prefs";
Dir::State::Lists "$tmp/lists";
Dir::State::status "$tmp/status";
Dir::Cache "$tmp/cache";
APT::Architecture "$arch";
APT::Sandbox::User "root";
CONF
: >"$tmp/status"
export APT_CONFIG="$tmp/apt.conf"
apt-get -q update >&2
(cd "$tmp" && apt-get -q download libunicorn2t64 libunicorn-dev >&2)
mkdir -p "$dest"
for deb in "$tmp"/*.deb; do
	dpkg -x "$deb" "$dest"
done
rm -f "$dest"/usr/lib/*/libunicorn.a # only the shared library is used
ls "$dest"/usr/lib/*/libunicorn.so.2 >/dev/null
echo "$dest"
