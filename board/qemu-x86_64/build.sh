#!/bin/bash
# Build the keepalived-rs lab VM: a Debian kernel plus one initramfs per router.
#
#   board/qemu-x86_64/build.sh [--no-cargo] [--arch x86_64|aarch64]
#
# Output (under target/vm/ for x86_64, target/vm-aarch64/ for aarch64; not
# committed; board/qemu-aarch64/build.sh is this script with --arch aarch64):
#   vmlinuz                  the Debian kernel (linux-image-6.1.0-N-amd64 or -arm64)
#   base.cpio.gz             busybox-static + kernel modules + keepalived-rs + rootfs-overlay
#   initramfs-NAME.cpio.gz   base.cpio.gz followed by a small per-router archive
#                            (/etc/hostname, /etc/network/interfaces, keepalived.conf)
#   extra/                   optional extra files, copied into the base image as they
#                            are: build.sh puts the lab test binaries (LAB_TESTS) in
#                            extra/usr/lib/lab/ (kept with --no-cargo)
# Downloads are cached in target/vm-cache/.
#
# The kernel unpacks concatenated cpio archives in order, later files
# replacing earlier ones: that is how a router (or run-one.sh's scenario
# files) is layered over the shared base without rebuilding it.
#
# Needs root (mknod /dev/console in the image) and, once, network access to the
# Debian mirror. --no-cargo uses the musl binary already built.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=arch.sh
. "$HERE/arch.sh"
CACHE=${VM_CACHE:-$REPO/target/vm-cache}
# The init script is the Buildroot package's own file: the VM runs exactly it.
INIT_SCRIPT=$REPO/buildroot/package/keepalived-rs/S45keepalived-rs

# Kernel modules put into the image, with their dependencies. Add what a
# scenario needs here (the image only grows by the module's size).
MODULES=(
	virtio_pci virtio_net  # the NIC (qemu -device virtio-net-pci)
	dummy veth bridge macvlan 8021q
	sch_netem              # tc qdisc netem (busybox tc cannot set it up; a static tc could)
	crc32c_generic         # load before ip_vs (LAB.md)
	ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_sed ip_vs_nq
)

# Integration tests (tests/NAME.rs) that run inside the VM rather than on the
# host: built as static test binaries into /usr/lib/lab/NAME (scenarios run
# them, e.g. scenarios/ipvs.sh).
LAB_TESTS=(ipvs_kernel)

# Router variants: NAME ADDRESS PRIORITY. "vm" is the single VM of run-one.sh.
VARIANTS=(
	"r1 192.0.2.1/24 100"
	"r2 192.0.2.2/24 90"
	"vm 192.0.2.10/24 100"
)

say() { printf 'build.sh: %s\n' "$*"; }
die() {
	printf 'build.sh: error: %s\n' "$*" >&2
	exit 1
}

cargo_build=1
arch=x86_64
while [ "$#" -gt 0 ]; do
	arg=$1
	shift
	case "$arg" in
		--no-cargo) cargo_build=0 ;;
		--arch)
			[ "$#" -gt 0 ] || die "--arch needs x86_64 or aarch64"
			arch=$1
			shift
			;;
		-h | --help)
			sed -n '2,20p' "${BASH_SOURCE[0]}"
			exit 0
			;;
		*) die "unknown argument: $arg" ;;
	esac
done

vm_arch "$arch" || die "unknown architecture $arch"
OUT=$ARCH_IMAGES
TARGET=$ARCH_TARGET
BIN=${CARGO_TARGET_DIR:-$REPO/target}/$TARGET/release/keepalived-rs
# aarch64 links with the bundled lld (no cross gcc), as tests/cross.sh does.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld

[ "$(id -u)" -eq 0 ] || die "run as root (the image needs /dev/console)"
[ -f "$INIT_SCRIPT" ] || die "missing $INIT_SCRIPT (the Buildroot package's init script)"

# --- host tools -------------------------------------------------------------
need_pkgs=()
command -v "$ARCH_QEMU" >/dev/null || need_pkgs+=("$ARCH_QEMU_PKG")
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v depmod >/dev/null || need_pkgs+=(kmod)
command -v cpio >/dev/null || need_pkgs+=(cpio)
mkdir -p "$CACHE"
if [ "${#need_pkgs[@]}" -gt 0 ]; then
	say "installing ${need_pkgs[*]}"
	for _ in $(seq 1 30); do
		# Another apt-get may hold the dpkg lock: retry for up to 5 minutes.
		if DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}" >"$CACHE.apt.log" 2>&1; then
			break
		fi
		grep -q 'lock' "$CACHE.apt.log" || die "apt-get failed, see $CACHE.apt.log"
		sleep 10
	done
	command -v "$ARCH_QEMU" >/dev/null || die "apt-get install did not succeed"
fi
# Foreign-architecture packages (kernel, busybox-static) come from the same
# mirror once dpkg knows the architecture.
if [ "$ARCH_DEB" != "$(dpkg --print-architecture)" ] &&
	! dpkg --print-foreign-architectures | grep -qx "$ARCH_DEB"; then
	say "dpkg --add-architecture $ARCH_DEB; apt-get update"
	dpkg --add-architecture "$ARCH_DEB"
	apt-get -o DPkg::Lock::Timeout=300 update >"$CACHE.apt.log" 2>&1 ||
		die "apt-get update failed, see $CACHE.apt.log"
fi
file /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static (install busybox-static)"

# apt-get download ARCH_DEB's PKG into the cache, print the .deb's path.
download_deb() { # PKG
	local deb
	deb=$(find "$CACHE" -maxdepth 1 -name "${1}_*_$ARCH_DEB.deb" | head -n 1)
	if [ -z "$deb" ]; then
		say "downloading $1:$ARCH_DEB" >&2
		(cd "$CACHE" && apt-get download "$1:$ARCH_DEB") >"$CACHE/download.log" 2>&1 ||
			die "apt-get download $1:$ARCH_DEB failed, see $CACHE/download.log"
		deb=$(find "$CACHE" -maxdepth 1 -name "${1}_*_$ARCH_DEB.deb" | head -n 1)
		[ -n "$deb" ] || die "apt-get download $1:$ARCH_DEB failed"
	fi
	echo "$deb"
}

# --- busybox-static of the guest's architecture -------------------------------
if [ "$ARCH_DEB" = "$(dpkg --print-architecture)" ]; then
	BUSYBOX=/bin/busybox
else
	bbroot=$CACHE/busybox-$ARCH_DEB
	if [ ! -x "$bbroot/bin/busybox" ]; then
		deb=$(download_deb busybox-static)
		rm -rf "$bbroot.tmp"
		dpkg-deb -x "$deb" "$bbroot.tmp"
		mv "$bbroot.tmp" "$bbroot"
		rm -f "$deb"
	fi
	BUSYBOX=$bbroot/bin/busybox
fi
[ -x "$BUSYBOX" ] || die "missing $BUSYBOX"

# --- kernel -----------------------------------------------------------------
kpkg=$(apt-cache depends "linux-image-$ARCH_DEB:$ARCH_DEB" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {sub(/:.*/, "", $2); print $2; exit}')
[ -n "$kpkg" ] || die "cannot find the kernel package (apt-cache depends linux-image-$ARCH_DEB:$ARCH_DEB)"
kver=${kpkg#linux-image-}
kroot=$CACHE/kroot-$kver
if [ ! -d "$kroot/lib/modules/$kver" ]; then
	deb=$(download_deb "$kpkg")
	say "unpacking $(basename "$deb")"
	rm -rf "$kroot.tmp"
	dpkg-deb -x "$deb" "$kroot.tmp"
	depmod -b "$kroot.tmp" "$kver"
	mv "$kroot.tmp" "$kroot"
	rm -f "$deb" # the unpacked tree is the cache
fi

# --- keepalived-rs (static) ---------------------------------------------------
if [ "$cargo_build" -eq 1 ]; then
	rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
	say "cargo build --release --target $TARGET (the flags of tests/cross.sh)"
	flags=$("$REPO/tests/cross.sh" flags "$arch")
	(cd "$REPO" && RUSTFLAGS="$flags" cargo build --quiet --release --target "$TARGET")
fi
[ -x "$BIN" ] || die "missing $BIN (cargo build --release --target $TARGET)"

# --- lab test binaries (into the optional extra/ directory) -----------------
EXTRA=$OUT/extra
if [ "$cargo_build" -eq 1 ]; then
	rm -rf "$EXTRA/usr/lib/lab"
	mkdir -p "$EXTRA/usr/lib/lab"
	# x86_64: a plain static executable, as tests/cross.sh builds it.
	test_rustflags=${RUSTFLAGS:-}
	[ "$arch" = x86_64 ] && test_rustflags="$test_rustflags -C relocation-model=static"
	for t in "${LAB_TESTS[@]}"; do
		say "cargo test --release --target $TARGET --test $t --no-run"
		exe=$(cd "$REPO" && RUSTFLAGS="$test_rustflags" cargo test --quiet --release \
			--target "$TARGET" --test "$t" --no-run --message-format=json |
			sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | grep "/$t-[0-9a-f]*$" | tail -n 1)
		# By name: cargo also lists the daemon's own binary, sometimes last.
		[ -x "$exe" ] || die "cargo test --test $t built no executable"
		install -m 755 "$exe" "$EXTRA/usr/lib/lab/$t"
	done
fi

# --- base image -------------------------------------------------------------
stage=$OUT/stage
rm -rf "$stage"
mkdir -p "$stage" "$OUT"
(
	cd "$stage"
	mkdir -p bin sbin usr/bin usr/sbin etc/init.d proc sys dev run tmp root var/log \
		etc/network/if-pre-up.d etc/network/if-up.d etc/network/if-down.d \
		etc/network/if-post-down.d lib/modules scenarios
	chmod 1777 tmp
	ln -s ../run var/run
	mknod -m 600 dev/console c 5 1
	mknod -m 666 dev/null c 1 3
)
install -m 755 "$BUSYBOX" "$stage/bin/busybox"
# The applet list of the host's busybox-static (same Debian release).
busybox --list-full | while read -r applet; do
	case "$applet" in bin/busybox | linuxrc) continue ;; esac
	dir=$(dirname "$applet")
	mkdir -p "$stage/$dir"
	# Relative link to /bin/busybox from the applet's directory.
	case "$dir" in
		bin) target=busybox ;;
		sbin) target=../bin/busybox ;;
		usr/bin | usr/sbin) target=../../bin/busybox ;;
		*) die "unexpected busybox applet path $applet" ;;
	esac
	ln -sf "$target" "$stage/$applet"
done
ln -s sbin/init "$stage/init"

# Modules and everything they depend on, then modules.dep for busybox modprobe.
mods=$(for m in "${MODULES[@]}"; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$m" || die "no module $m in $kver"
done | awk '$1 == "insmod" {print $2}' | sort -u)
for m in $mods; do
	rel=${m#"$kroot"/}
	mkdir -p "$stage/$(dirname "$rel")"
	cp "$m" "$stage/$rel"
done
cp "$kroot/lib/modules/$kver/modules.order" "$kroot/lib/modules/$kver/modules.builtin" \
	"$kroot/lib/modules/$kver/modules.builtin.modinfo" \
	"$stage/lib/modules/$kver/"
depmod -b "$stage" "$kver"

cp -a "$HERE/rootfs-overlay/." "$stage/"
# The shell of the host's command loop is on the board's serial console.
sed -i "s/^ttyS0::/$ARCH_CONSOLE::/" "$stage/etc/inittab"
install -m 755 "$INIT_SCRIPT" "$stage/etc/init.d/S45keepalived-rs"
install -m 755 "$BIN" "$stage/usr/sbin/keepalived-rs"
[ -d "$EXTRA" ] && cp -a "$EXTRA/." "$stage/"

cpio_gz() { # DIR OUTPUT: the directory as a gzip'ed newc archive owned by root
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 >"$2"
}
cpio_gz "$stage" "$OUT/base.cpio.gz"
cp "$kroot/boot/vmlinuz-$kver" "$OUT/vmlinuz"

# --- per-router archives ------------------------------------------------------
netmask() { # PREFIXLEN -> dotted netmask
	local bits=$1 out="" i n
	for i in 1 2 3 4; do
		if [ "$bits" -ge 8 ]; then
			n=255
			bits=$((bits - 8))
		else
			n=$((256 - (1 << (8 - bits))))
			[ "$bits" -eq 0 ] && n=0
			bits=0
		fi
		out=$out$n
		[ "$i" -lt 4 ] && out=$out.
	done
	echo "$out"
}
templated=(etc/hostname etc/network/interfaces etc/keepalived/keepalived.conf)
for v in "${VARIANTS[@]}"; do
	read -r name address priority <<<"$v"
	vdir=$OUT/variant-$name
	rm -rf "$vdir"
	for f in "${templated[@]}"; do
		mkdir -p "$vdir/$(dirname "$f")"
		sed -e "s|@HOSTNAME@|$name|g" -e "s|@ADDRESS@|$address|g" \
			-e "s|@IP@|${address%/*}|g" -e "s|@NETMASK@|$(netmask "${address#*/}")|g" \
			-e "s|@PRIORITY@|$priority|g" "$HERE/rootfs-overlay/$f" >"$vdir/$f"
	done
	cpio_gz "$vdir" "$OUT/variant-$name.cpio.gz"
	cat "$OUT/base.cpio.gz" "$OUT/variant-$name.cpio.gz" >"$OUT/initramfs-$name.cpio.gz"
	rm -rf "$vdir" "$OUT/variant-$name.cpio.gz"
done
rm -rf "$stage"

say "$arch: kernel $kver, keepalived-rs $(stat -c %s "$BIN") B, $(echo "$mods" | wc -w) modules"
for v in "${VARIANTS[@]}"; do
	read -r name address priority <<<"$v"
	say "$OUT/initramfs-$name.cpio.gz ($(stat -c %s "$OUT/initramfs-$name.cpio.gz") B): $name $address priority $priority"
done
