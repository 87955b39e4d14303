#!/bin/bash
# realkvm.sh: run a host command against a faithful KVM (Debian's stock kvm_amd)
# inside an L1 Linux guest under QEMU TCG, which emulates AMD SVM with nested
# paging (see DESIGN.md section 7).
#
#   realkvm.sh [--cache DIR] [--timeout SECS] [--mem SIZE] [--smp N] -- CMD [ARGS...]
#
# L1 sees the host root file system read-only over 9p, with a tmpfs overlay on
# top so that everything is writable (writes are thrown away). CMD runs chrooted
# into it, in the same working directory, with the same environment, against
# L1's /dev/kvm; its stdout and stderr stream back to ours over virtio-serial.
# Exit status: CMD's own; 99 if the test bed failed (L1 did not boot, kvm_amd did
# not load, ...); 124 on timeout. On any non-zero status the L1 console log is
# printed to stderr.
#
# Missing packages (qemu-system-x86, busybox-static) are installed with apt-get.
# The stock kernel is fetched with apt-get download + dpkg -x (never installed)
# and cached, with the L1 initramfs, in the cache directory
# (default: $MESON_BUILD_ROOT/realkvm-cache, else ./realkvm-cache).
# --smp N gives L1 N vCPUs (default 1), so that an N-vCPU guest of CMD runs on
# N L1 vCPUs: say N beside every figure measured in the bed.
# Debugging: REALKVM_VERBOSE=1 prints the L1 console log on success too;
# REALKVM_KERNEL_ARGS adds L1 kernel arguments (e.g. "loglevel=7").
set -euo pipefail

cache=${MESON_BUILD_ROOT:-.}/realkvm-cache
timeout=300
mem=8G  # L1 RAM: a test may size guests by the host's RAM (e.g. 6 GiB for high memory);
        # 8G costs ~1.5 s more boot than 2G, for the kernel's page structures.
smp=1
usage() { echo "usage: $0 [--cache DIR] [--timeout SECS] [--mem SIZE] [--smp N] -- CMD [ARGS...]" >&2; exit 99; }
while (($#)); do
    case $1 in
    --cache) cache=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --smp) smp=${2:?}; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
    esac
done
(($#)) || usage

log() { echo "realkvm: [${SECONDS}s] $*" >&2; }
die() { log "error: $*"; exit 99; }

# Modules L1 loads, in this order, each after the modules it depends on, with
# their parameters (loop and ext4: a test can keep a disk image on a real file
# system, where tmpfs lacks write-zeroes and O_DIRECT).
L1_MODULES=("kvm-amd npt=1" virtio_pci virtio_console 9pnet_virtio 9p overlay loop crc32c_generic ext4)

# ---- host packages ------------------------------------------------------------
apt_get() {  # apt-get, refreshing the package lists once if the first try fails
    local a=(-o DPkg::Lock::Timeout=600 -o APT::Sandbox::User=root)
    DEBIAN_FRONTEND=noninteractive apt-get "${a[@]}" "$@" ||
        { apt-get "${a[@]}" -q update >&2 && DEBIAN_FRONTEND=noninteractive apt-get "${a[@]}" "$@"; }
}
ensure_packages() {
    local missing=()
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    command -v xz >/dev/null || missing+=(xz-utils)
    [[ $(dpkg-query -W -f '${Status}' busybox-static 2>/dev/null) == *" installed" ]] ||
        missing+=(busybox-static)
    ((${#missing[@]})) || return 0
    log "installing ${missing[*]}"
    apt_get install -y -q --no-install-recommends "${missing[@]}" >&2 || die "apt-get install failed"
}

# ---- the stock kernel -----------------------------------------------------------
kernel_tree() { compgen -G "$cache/linux-image-6.1.0-*-amd64" | sort -V | tail -n1; }
fetch_kernel() {
    [[ -n $(kernel_tree) ]] && return 0
    # The version apt offers is the one the linux-image-amd64 metapackage depends on.
    local pkg=""
    find_pkg() { apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1; }
    pkg=$(find_pkg)
    [[ -n $pkg ]] || { apt-get -q update >&2; pkg=$(find_pkg); }
    [[ -n $pkg ]] || die "apt offers no linux-image-6.1.0-*-amd64"
    log "fetching $pkg"
    rm -rf "$cache/dl" && mkdir -p "$cache/dl"
    (cd "$cache/dl" && apt_get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
    rm -rf "$cache/$pkg.partial"
    dpkg -x "$cache"/dl/"$pkg"_*.deb "$cache/$pkg.partial"
    # Booting the uncompressed kernel saves ~3 s of decompression under TCG.
    extract_vmlinux "$cache/$pkg.partial"/boot/vmlinuz-* "$cache/$pkg.partial/boot/vmlinux" ||
        log "no vmlinux in the bzImage: booting the bzImage"
    mv "$cache/$pkg.partial" "$cache/$pkg" && rm -rf "$cache/dl"
}
extract_vmlinux() {  # (bzImage, out): the ELF kernel inside, as scripts/extract-vmlinux does
    local off
    for off in $(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$1" | cut -d: -f1); do
        { tail -c +$((off + 1)) "$1" | xz -dcq > "$2"; } 2>/dev/null || true
        [[ $(head -c 4 "$2") == $'\x7fELF' ]] && return 0
    done
    rm -f "$2"; return 1
}

# ---- the L1 initramfs -------------------------------------------------------------
# L1's /init (busybox sh). $realkvm_spec comes from the kernel command line: a
# host directory holding run.sh. Markers on the console tell the host how it went.
read -r -d '' L1_INIT <<'EOF' || true
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
fail() { echo "REALKVM-FAIL: $*"; dmesg; poweroff -f; }
while read -r mod args; do
    insmod "/lib/modules/$mod.ko" $args || fail "insmod $mod $args"
done < /etc/modules.list
[ -c /dev/kvm ] || fail "no /dev/kvm after loading kvm_amd"
# The host root, read-only, under a writable tmpfs overlay.
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot /lower ||
    fail "cannot mount the host root over 9p"
mount -t tmpfs tmpfs /rw && mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /root ||
    fail "cannot mount the overlay"
mount -t proc proc /root/proc; mount -t sysfs sysfs /root/sys; mount -t devtmpfs devtmpfs /root/dev
mkdir -p /root/dev/pts /root/dev/shm
mount -t devpts devpts /root/dev/pts; mount -t tmpfs tmpfs /root/dev/shm
ip link set lo up
for p in /sys/class/virtio-ports/*; do
    case $(cat "$p/name") in stdout) out=/dev/${p##*/} ;; stderr) err=/dev/${p##*/} ;; esac
done
[ -n "$out" ] && [ -n "$err" ] || fail "virtio-serial ports stdout/stderr not found"
echo "REALKVM-START"
chroot /root /bin/bash "$realkvm_spec/run.sh" </dev/null >"$out" 2>"$err"
echo "REALKVM-EXIT $?"
poweroff -f
EOF

build_initramfs() {  # (cpio path)
    local tree moddir root=$tmp/initramfs
    tree=$(kernel_tree)
    moddir=$(compgen -G "$tree/lib/modules/6.1.0-*-amd64") || die "no modules in $tree"
    mkdir -p "$root"/{bin,dev,proc,sys,etc,lib/modules,lower,rw,root}
    cp /bin/busybox "$root/bin/busybox"
    printf '%s\n' "$L1_INIT" > "$root/init" && chmod +x "$root/init"

    # Each wanted module, decompressed, listed after the modules it depends on
    # (read from its own "depends=" field: the package has no modules.dep).
    local -A path_of=() seen=()
    local p n spec
    while read -r p; do
        n=${p##*/}; n=${n%%.ko*}; path_of[${n//-/_}]=$p
    done < <(find "$moddir/kernel" -name '*.ko*')
    add_module() {  # (name, insmod parameters...)
        local n=${1//-/_} p d; shift
        [[ -n ${seen[$n]:-} ]] && return; seen[$n]=1
        p=${path_of[$n]:-}; [[ -n $p ]] || die "module $n not in $moddir"
        case $p in
        *.xz) xz -dc "$p" ;; *.zst) zstd -qdc "$p" ;; *) cat "$p" ;;
        esac > "$root/lib/modules/$n.ko"
        for d in $(tr '\0' '\n' < "$root/lib/modules/$n.ko" | sed -n 's/^depends=//p' | tr , ' '); do
            add_module "$d"
        done
        echo "$n $*" >> "$root/etc/modules.list"
    }
    # shellcheck disable=SC2086 # split "name params..."
    for spec in "${L1_MODULES[@]}"; do add_module $spec; done
    (cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) > "$1.partial" && mv "$1.partial" "$1"
}

# ---- set up the test bed (once per cache directory) ---------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/realkvm.XXXXXX") && tmp=$(cd "$tmp" && pwd)
qpid=""
cleanup() { [[ -n $qpid ]] && kill "$qpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'log "interrupted"; exit 99' INT TERM HUP
[[ $tmp != *[[:space:]]* ]] || die "$tmp: a space would split L1's kernel command line"

mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
# The initramfs is named by a hash of this script, so editing /init or the module
# list rebuilds it.
cpio=$cache/l1-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12).cpio
if [[ ! -f $cpio || -z $(kernel_tree) ]] || ! command -v qemu-system-x86_64 >/dev/null; then
    exec {lock}>"$cache/.lock"
    flock "$lock"   # parallel tests: one sets up, the others wait
    ensure_packages
    fetch_kernel
    [[ -f $cpio ]] || { log "building $cpio"; rm -f "$cache"/l1-*.cpio; build_initramfs "$cpio"; }
    exec {lock}>&-
fi
tree=$(kernel_tree); [[ -n $tree ]] || die "no kernel in $cache"
kernel=$tree/boot/vmlinux
[[ -f $kernel ]] || kernel=$(compgen -G "$tree/boot/vmlinuz-*") || die "no kernel in $tree"

# ---- run CMD in L1 ----------------------------------------------------------------
# run.sh: the caller's environment, working directory and command, for bash in L1.
{
    export -p
    printf 'cd %q || exit 125\nexec' "$PWD"
    printf ' %q' "$@"
    echo
} > "$tmp/run.sh"

# CMD's stdout and stderr: virtio-serial ports -> FIFOs -> cat -> ours. QEMU's
# pipe chardev reads guest input from PATH.in and writes output to PATH.out (given
# one FIFO, it would read back its own output).
mkfifo "$tmp"/{out,err}.{in,out}
cat "$tmp/out.out" & outcat=$!
cat "$tmp/err.out" >&2 & errcat=$!

timeout --foreground -k 5 "$timeout" qemu-system-x86_64 \
    -accel tcg -cpu max -m "$mem" -smp "$smp" -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$kernel" -initrd "$cpio" \
    -append "console=ttyS0 quiet panic=-1 ${REALKVM_KERNEL_ARGS:-} realkvm_spec=$tmp" \
    -serial "file:$tmp/console.log" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -device virtio-serial-pci,id=vs \
    -chardev pipe,id=out,path="$tmp/out" -device virtserialport,bus=vs.0,chardev=out,name=stdout \
    -chardev pipe,id=err,path="$tmp/err" -device virtserialport,bus=vs.0,chardev=err,name=stderr \
    </dev/null 2>"$tmp/qemu.log" &
qpid=$!
qrc=0; wait "$qpid" || qrc=$?
qpid=""
# If QEMU never opened the FIFOs, the cats still wait in open(): open and close a writer.
exec {w}<>"$tmp/out.out" {w2}<>"$tmp/err.out"; exec {w}>&- {w2}>&-
wait "$outcat" "$errcat" || true

console=$(tr -d '\r' < "$tmp/console.log" 2>/dev/null || true)
rc=$(sed -n 's/^REALKVM-EXIT \([0-9]*\)$/\1/p' <<<"$console" | tail -n1)
if [[ -z $rc ]]; then
    if ((qrc == 124 || qrc == 137)); then
        log "timed out after ${timeout}s"; rc=124
    elif grep -q '^REALKVM-FAIL' <<<"$console"; then
        log "L1 test bed failed: $(sed -n 's/^REALKVM-FAIL: //p' <<<"$console")"; rc=99
    else
        log "L1 did not finish (qemu exit status $qrc)"; rc=99
    fi
fi
if ((rc != 0)) || [[ -n ${REALKVM_VERBOSE:-} ]]; then
    log "status $rc; L1 console log:"
    { echo "----- L1 console -----"; echo "$console"
      [[ -s $tmp/qemu.log ]] && { echo "----- qemu stderr -----"; cat "$tmp/qemu.log"; }
      echo "----------------------"; } >&2
fi
exit "$rc"
