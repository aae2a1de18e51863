#!/bin/bash
# Build the keepalived-rs lab VM: a Debian kernel plus one initramfs per router.
#
#   board/qemu-x86_64/build.sh [--no-cargo]
#
# Output (under target/vm/, not committed):
#   vmlinuz                  the Debian kernel (linux-image-6.1.0-N-amd64)
#   base.cpio.gz             busybox-static + kernel modules + keepalived-rs + rootfs-overlay
#   initramfs-NAME.cpio.gz   base.cpio.gz followed by a small per-router archive
#                            (/etc/hostname, /etc/network/interfaces, keepalived.conf)
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
CACHE=${VM_CACHE:-$REPO/target/vm-cache}
OUT=${VM_OUT:-$REPO/target/vm}
TARGET=x86_64-unknown-linux-musl
BIN=$REPO/target/$TARGET/release/keepalived-rs
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
for arg in "$@"; do
	case "$arg" in
		--no-cargo) cargo_build=0 ;;
		-h | --help)
			sed -n '2,20p' "${BASH_SOURCE[0]}"
			exit 0
			;;
		*) die "unknown argument: $arg" ;;
	esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (the image needs /dev/console)"
[ -f "$INIT_SCRIPT" ] || die "missing $INIT_SCRIPT (the Buildroot package's init script)"

# --- host tools -------------------------------------------------------------
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v depmod >/dev/null || need_pkgs+=(kmod)
command -v cpio >/dev/null || need_pkgs+=(cpio)
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
	command -v qemu-system-x86_64 >/dev/null || die "apt-get install did not succeed"
fi
file /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static (install busybox-static)"

# --- kernel -----------------------------------------------------------------
mkdir -p "$CACHE"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || die "cannot find the kernel package (apt-cache depends linux-image-amd64)"
kver=${kpkg#linux-image-}
kroot=$CACHE/kroot-$kver
if [ ! -d "$kroot/lib/modules/$kver" ]; then
	deb=$(find "$CACHE" -maxdepth 1 -name "${kpkg}_*.deb" | head -n 1)
	if [ -z "$deb" ]; then
		say "downloading $kpkg"
		(cd "$CACHE" && apt-get download "$kpkg") >"$CACHE/download.log" 2>&1 ||
			die "apt-get download $kpkg failed, see $CACHE/download.log"
		deb=$(find "$CACHE" -maxdepth 1 -name "${kpkg}_*.deb" | head -n 1)
		[ -n "$deb" ] || die "apt-get download $kpkg failed"
	fi
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
	say "cargo build --release --target $TARGET"
	(cd "$REPO" && cargo build --quiet --release --target "$TARGET")
fi
[ -x "$BIN" ] || die "missing $BIN (cargo build --release --target $TARGET)"

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
install -m 755 /bin/busybox "$stage/bin/busybox"
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
install -m 755 "$INIT_SCRIPT" "$stage/etc/init.d/S45keepalived-rs"
install -m 755 "$BIN" "$stage/usr/sbin/keepalived-rs"

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

say "kernel $kver, keepalived-rs $(stat -c %s "$BIN") B, $(echo "$mods" | wc -w) modules"
for v in "${VARIANTS[@]}"; do
	read -r name address priority <<<"$v"
	say "$OUT/initramfs-$name.cpio.gz ($(stat -c %s "$OUT/initramfs-$name.cpio.gz") B): $name $address priority $priority"
done
