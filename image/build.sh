# The SD-card image (issue 14): sourced by setup.sh, which keeps the dispatch and the usage.
#   build_rootfs OUT      OUT/rootfs: the Pi's arm64 Debian 12 tree with the kiosk installed,
#                         finished for the image (release file, read-only root, initramfs...)
#   build_image OUT       partition 1's files, root.ext4, the disk and its .xz from OUT/rootfs
#   image_command ARGS    `./setup.sh image ...` (usage in setup.sh)
# The disk's layout is I14-CONTRACT's: MBR with disk signature 0x4b494f53, RASPIFIRM, root A,
# root B, KIOSKDATA (image/genimage.cfg). Partition 1's files are in image/boot/.
# shellcheck shell=bash

# What the Pi's root tree holds besides KIOSK_APT_PACKAGES: a kernel, the Pi's firmware and
# device trees (non-free-firmware), an init, what makes the initramfs, the Pi's U-Boot (copied
# to partition 1), RAUC (its CLI talks to rauc-service over D-Bus) and fw_printenv/fw_setenv
# for the boot counter.
IMAGE_APT_EXTRA=(linux-image-arm64 raspi-firmware systemd-sysv initramfs-tools
                 u-boot-rpi rauc rauc-service libubootenv-tool)
# What the initramfs needs to mount the root by PARTUUID: ext4 (and the crc32c its metadata
# checksums load), QEMU virt's virtio disk (PCI or MMIO), the SD card on a Pi 3B+ (sdhost:
# "bcm2835"; its Wi-Fi's Arasan sdhci: sdhci-iproc) and a Pi 4 (emmc2: sdhci-iproc, whose 1.8 V
# regulator sits on the firmware's GPIO expander), and the firmware's clocks (those two and
# mmc_block are built into Debian's kernel: listed so the check below keeps saying so).
INITRAMFS_MODULES=(ext4 crc32c_generic mmc_block virtio_blk virtio_pci virtio_mmio
                   bcm2835 sdhci_iproc gpio_raspberrypi_exp clk_raspberrypi)
# One source for the disk (I14-CONTRACT): image/genimage.cfg reads these through genimage's
# environment expansion, and tests/test_image_files.py checks them against the contract.
DISK_SIGNATURE=0x4b494f53
BOOT_SIZE=256M
# A slot holds the root tree (about 0.9 GB now) with room to grow: 2 GiB. Two slots, partition 1
# and the data partition fit a 8 GB card with room for the data partition to grow into.
SLOT_SIZE=2G
DATA_SIZE=64M
DATA_LABEL=KIOSKDATA
ROOT_LABEL=kiosk-root
BOOT_LABEL=RASPIFIRM
# Fixed identities: the same tree gives the same bytes (mkfs would pick random ones).
ROOT_FS_UUID=4b494f53-0002-4000-8000-6b696f736b32
ROOT_HASH_SEED=4b494f53-0002-4000-8000-686173680002
DATA_FS_UUID=4b494f53-0004-4000-8000-6b696f736b34
DATA_HASH_SEED=4b494f53-0004-4000-8000-686173680004
# The boot counter's store on partition 1 (a U-Boot environment blob with CRC, single copy).
BOOT_ENV_FILE=kiosk-boot.env
BOOT_ENV_SIZE=0x4000
COMPATIBLE=library-kiosk-rpi-arm64
IMAGE_BOOT_DIR=image/boot

enable_qemu_user() {
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64 2>/dev/null || true
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    echo "setup: arm64 programs cannot run here: install qemu-user-static and binfmt-support" >&2
    exit 1
  fi
}

# phase NAME COMMAND...: runs the command and prints how long it took.
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "setup: phase $name: $((SECONDS - start)) s"
}

# arm64_evdev_wheel DIR: the evdev pin's wheel, compiled once in an arm64 Debian 12 under
# qemu-user (it has no aarch64 wheel on PyPI) and cached by its pin, the chroot's packages and
# this recipe. Compiled in a fixed folder, /tmp/evdev: the compiler writes its folder into the
# modules' debug information, and pip's own (/tmp/pip-req-build-<random>) made each build's
# modules differ.
arm64_evdev_wheel() {
  local dir=$1 pin packages key cached tmp
  pin=$(requirement_pins requirements-kiosk.txt | grep -i '^evdev==')
  packages=python3,python3-venv,python3-dev,gcc,linux-libc-dev
  key=$(printf '%s\n' "$IMAGE_SUITE $pin $EVDEV_BUILD_REQUIRES $packages" \
    "$(declare -f arm64_evdev_wheel)" | sha256sum | cut -c1-16)
  cached=$IMAGE_CACHE/evdev-$key
  if ! ls "$cached"/evdev-*.whl > /dev/null 2>&1; then
    enable_qemu_user
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --no-binary=:all: --dest "$tmp/sdist" "$pin"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp/sdist" \
      "$EVDEV_BUILD_REQUIRES"
    mkdir -p "$IMAGE_CACHE"
    mmdebstrap --quiet --architectures=arm64 --variant=minbase --include="$packages" \
      --customize-hook="copy-in $tmp/sdist /tmp" \
      --customize-hook='chroot "$1" sh -ec "python3 -m venv /tmp/venv;
          mkdir /tmp/evdev; tar -xzf /tmp/sdist/evdev-*.tar.gz -C /tmp/evdev --strip-components=1;
          cd /tmp/evdev; /tmp/venv/bin/pip wheel --quiet --no-index --find-links /tmp/sdist \
            --no-deps --wheel-dir /tmp/wheel ."' \
      --customize-hook="copy-out /tmp/wheel $tmp" \
      "$IMAGE_SUITE" /dev/null
    mkdir -p "$cached.partial"
    cp "$tmp"/wheel/evdev-*.whl "$cached.partial/"
    rm -rf "$cached" && mv "$cached.partial" "$cached"
    rm -rf "$tmp"
  fi
  cp "$cached"/evdev-*.whl "$dir/"
}

# build_arm64_wheels DIR: what `install --wheels DIR` needs on the Pi: every pin's aarch64 cp311
# wheel (binary only: nothing compiles on the way) and the project's own (pure Python) wheel.
build_arm64_wheels() {
  local dir=$1 platforms=() tag
  install_packages "${WHEEL_APT_PACKAGES[@]}" "${IMAGE_APT_PACKAGES[@]}"
  mkdir -p "$dir"
  for tag in "${ARM64_PLATFORMS[@]}"; do platforms+=(--platform "${tag}_aarch64"); done
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$dir" \
    "${platforms[@]}" --python-version 3.11 --implementation cp \
    -r <(requirement_pins requirements-kiosk.txt | grep -iv '^evdev==')
  arm64_evdev_wheel "$dir"
  project_wheel "$dir"
  requirement_pins requirements-kiosk.txt > "$dir/requirements-kiosk.txt"
  check_wheel_folder "$dir"
  echo "setup: the Pi's (arm64) wheels for an offline install are in $dir"
}

# rootfs_tar TREE TARBALL: a tarball that is the same for the same tree: sorted names, mtimes
# no later than SOURCE_DATE_EPOCH, numeric owners, no access or change times.
rootfs_tar() {
  tar -C "$1" --sort=name --numeric-owner --xattrs --xattrs-include='*' \
    --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -cf "$2" .
}

set_source_date_epoch() {
  export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
}

tree_version() {
  local tree=$1
  sed -n 's/^VERSION=//p' "$tree/etc/kiosk-release" 2>/dev/null | grep . ||
    chroot "$tree" /opt/kiosk/.venv/bin/python -c 'import kiosk; print(kiosk.__version__)'
}

# build_rootfs OUT: OUT/rootfs (the Pi's arm64 Debian 12 tree with the kiosk installed in it by
# `./setup.sh install --read-only-root`, finished for the image by finish_tree), OUT/wheels and
# OUT/packages.txt.
build_rootfs() {
  local out=$1 tree src
  install_packages "${IMAGE_APT_PACKAGES[@]}"
  enable_qemu_user
  set_source_date_epoch
  tree=$out/rootfs
  rm -rf "$tree" "$out/wheels"
  mkdir -p "$out"
  phase wheels build_arm64_wheels "$out/wheels"
  src=$(mktemp -d)
  project_copy "$src"
  cp -r "$out/wheels" "$src/wheels"
  # update-initramfs is diverted while packages go in: under qemu-user each run takes minutes
  # and a trigger runs it twice. finish_tree makes the initramfs once (MODULES=list).
  # finish_tree runs from a hook, so it sees the tree while mmdebstrap still has /proc and
  # /dev mounted in it (and unmounts them after): nothing stays mounted in OUT/rootfs.
  phase debootstrap mmdebstrap --quiet --architectures=arm64 --variant=minbase \
    --components=main,non-free-firmware \
    --include="$(IFS=,; echo "${KIOSK_APT_PACKAGES[*]},${IMAGE_APT_EXTRA[*]}")" \
    --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs' \
    --essential-hook='printf "#!/bin/sh\necho update-initramfs: diverted during the image build\n" > "$1/usr/sbin/update-initramfs"; chmod 755 "$1/usr/sbin/update-initramfs"' \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; echo MODULES=list > "$1/etc/initramfs-tools/conf.d/kiosk-modules.conf"' \
    --customize-hook="bash -c 'source \"\$0/setup.sh\" && tree_base_files \"\$1\"' '$PWD' \"\$1\"" \
    --customize-hook="copy-in $src /tmp" \
    --customize-hook="chroot \"\$1\" /tmp/$(basename "$src")/setup.sh install --wheels /tmp/$(basename "$src")/wheels --data-partition yes --read-only-root" \
    --customize-hook="rm -rf \"\$1/tmp/$(basename "$src")\"" \
    --customize-hook="bash -c 'source \"\$0/setup.sh\" && finish_tree \"\$1\"' '$PWD' \"\$1\"" \
    "$IMAGE_SUITE" "$tree"
  rm -rf "$src"
  # Last, once mmdebstrap's own clean-up has changed its folders too.
  phase clamp clamp_mtimes "$tree"
  dpkg-query --admindir="$tree/var/lib/dpkg" -W -f='${Package} ${Version} ${Architecture}\n' \
    | sort > "$out/packages.txt"
  echo "setup: the root tree's packages ($(wc -l < "$out/packages.txt")):"
  cat "$out/packages.txt"
  echo "setup: the Pi's root tree is $tree ($(du -sh "$tree" | cut -f1))"
}

# clamp_mtimes TREE: no modification time in TREE later than SOURCE_DATE_EPOCH. What Debian's
# packages bring keeps its own (older) time; what the build wrote (the venv, /etc, the
# initramfs, every folder it touched) carries the build's clock, and two builds' trees would
# differ in nothing else. Safe for Python: with SOURCE_DATE_EPOCH set, py_compile (pip's and
# Debian's py3compile) writes checked-hash .pyc files, which do not record their source's time.
# Symlinks' own times (-h), not their targets'.
clamp_mtimes() {
  find "$1" -xdev -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# project_copy DIR: the project as `install` reads it (setup.sh and the image/ it sources,
# systemd/, docs/, README.md, the kiosk's pins in one file without its includes) copied into DIR,
# with the modes git keeps: 0755 for folders and executables, 0644 for the rest, whatever umask
# the checkout was made with (docs/ goes into the tree: 0600 from one checkout, 0644 from another
# would differ).
project_copy() {
  cp -r setup.sh image systemd docs README.md "$1/"
  requirement_pins requirements-kiosk.txt > "$1/requirements-kiosk.txt"
  chmod -R u=rwX,go=rX "$1"
}

# tree_base_files TREE: what `install --read-only-root` edits must exist first: an fstab with
# the root (whichever slot U-Boot booted: /dev/root, never a label both slots share) and the
# boot partition (it holds the boot counter: read-write; nofail: a kiosk without it still runs;
# kiosk-firstboot reads its files, so it waits for the mount, which may come late: udev takes
# its time on a slow card, and far more under QEMU's TCG).
tree_base_files() {
  local tree=$1
  cat > "$tree/etc/fstab" <<EOF
# The kiosk image's disk (image/build.sh): root slot A or B as U-Boot chose, partition 1.
/dev/root / ext4 ro,noatime 0 0
PARTUUID=${DISK_SIGNATURE#0x}-01 /boot/firmware vfat rw,noatime,nofail,x-systemd.device-timeout=90s,x-systemd.before=kiosk-firstboot.service,umask=0022 0 0
EOF
  echo kiosk > "$tree/etc/hostname"
  printf '%s\n' "${INITRAMFS_MODULES[@]}" > "$tree/etc/initramfs-tools/modules"
}

# finish_tree TREE: the image's own files, host keys out, the initramfs made once, and what a
# read-only kiosk never reads taken out. Runs from mmdebstrap's hook (as root, on the host).
finish_tree() {
  local tree=$1
  phase release write_release "$tree"
  echo "/boot/firmware/$BOOT_ENV_FILE 0x0 $BOOT_ENV_SIZE" > "$tree/etc/fw_env.config"
  # Each kiosk its own machine id: empty here, so systemd makes one at boot (on a read-only root
  # it lives in RAM; the build's would otherwise be every kiosk's). mmdebstrap then removes
  # D-Bus's copy, and D-Bus reads /etc/machine-id.
  : > "$tree/etc/machine-id"
  wired_network "$tree"
  ssh_host_keys_out "$tree"
  if declare -F install_update_config > /dev/null; then
    install_update_config "$tree"
  else
    echo "setup: image/update.sh is not here: the tree has no RAUC configuration" >&2
  fi
  rm -f "$tree/usr/sbin/update-initramfs"
  chroot "$tree" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
  phase initramfs make_initramfs "$tree"
  phase slim slim_tree "$tree"
}

write_release() {
  local tree=$1 version
  version=$(chroot "$tree" /opt/kiosk/.venv/bin/python -c 'import kiosk; print(kiosk.__version__)')
  cat > "$tree/etc/kiosk-release" <<EOF
VERSION=$version
BUILD=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
COMPATIBLE=$COMPATIBLE
EOF
  echo "setup: /etc/kiosk-release: $(tr '\n' ' ' < "$tree/etc/kiosk-release")"
}

# wired_network TREE: Ethernet by DHCP (systemd-networkd; Wi-Fi is kiosk-wifi's, from wifi.toml).
wired_network() {
  local tree=$1
  mkdir -p "$tree/etc/systemd/network"
  cat > "$tree/etc/systemd/network/20-kiosk-wired.network" <<'EOF'
# Every wired port by DHCP (image/build.sh). Wi-Fi: wifi.toml on the boot partition.
[Match]
Type=ether

[Network]
DHCP=yes

[DHCPv4]
UseDomains=yes
EOF
  SYSTEMD_OFFLINE=1 chroot "$tree" systemctl enable --quiet systemd-networkd.service \
    systemd-resolved.service
  ln -sfn ../run/systemd/resolve/stub-resolv.conf "$tree/etc/resolv.conf"
}

# ssh_host_keys_out TREE: an image must not ship host keys (every kiosk would share them):
# kiosk-ssh-host-keys.service makes each kiosk's own in /data/ssh at first boot, where the
# installed sshd_config.d drop-in points sshd.
ssh_host_keys_out() {
  local tree=$1
  rm -f "$tree"/etc/ssh/ssh_host_*
  if ! grep -qs '^HostKey /data/ssh/' "$tree"/etc/ssh/sshd_config.d/*.conf; then
    echo "setup: the tree's sshd has no HostKey in /data/ssh: ./setup.sh install did not put in its drop-in" >&2
    return 1
  fi
}

# make_initramfs TREE: the initramfs of the tree's one kernel, once, with only the listed
# modules; a listed module that this kernel has neither as a module nor built in stops the build.
# Debian's arm64 vmlinuz is an uncompressed Image (`file`: "Linux kernel ARM64 boot executable
# Image"), which U-Boot's booti takes as it is (boot.scr still sets kernel_comp_* for a gzip one).
make_initramfs() {
  local tree=$1 version module missing=()
  version=$(ls "$tree/lib/modules")
  for module in "${INITRAMFS_MODULES[@]}"; do
    # Module file names spell "_" as "-" at times (sdhci-iproc.ko).
    [ -n "$(find "$tree/lib/modules/$version" -regex ".*/${module//_/[_-]}\.ko\(\.[a-z]+\)?")" ] ||
      grep -q "/${module//_/[_-]}\.ko\$" "$tree/lib/modules/$version/modules.builtin" ||
      missing+=("$module")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: kernel $version has no module ${missing[*]}: fix INITRAMFS_MODULES" >&2
    return 1
  fi
  chroot "$tree" update-initramfs -c -k "$version"
  # U-Boot loads the booted slot's /boot/vmlinuz and /boot/initrd.img (I14-CONTRACT): the
  # links point at this version whatever Debian's kernel-img.conf would do.
  ln -sfn "vmlinuz-$version" "$tree/boot/vmlinuz"
  ln -sfn "initrd.img-$version" "$tree/boot/initrd.img"
  echo "setup: initramfs for $version: $(du -h "$tree/boot/initrd.img-$version" | cut -f1)," \
    "kernel: $(file -bL "$tree/boot/vmlinuz" | cut -d, -f1)"
}

# slim_tree TREE: what a read-only kiosk never reads: apt's lists and caches, documentation
# (each package's copyright stays), man and info pages, other languages' messages, logs of the
# build, and /boot/firmware's copy of the kernel (partition 1 is mounted over it).
slim_tree() {
  local tree=$1 before after
  before=$(du -skx "$tree" | cut -f1)
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/*.bin "$tree"/var/cache/apt/archives/*.deb
  find "$tree/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$tree/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$tree"/usr/share/man/* "$tree"/usr/share/info/* "$tree"/usr/share/lintian
  find "$tree/usr/share/locale" -mindepth 1 -maxdepth 1 -type d ! -name 'zh*' ! -name 'en*' \
    -exec rm -rf {} +
  rm -rf "$tree"/boot/firmware/*
  find "$tree/var/log" -type f -delete
  rm -f "$tree"/var/cache/debconf/*-old "$tree"/var/lib/dpkg/*-old "$tree/var/cache/ldconfig/aux-cache"
  after=$(du -skx "$tree" | cut -f1)
  echo "setup: slimmed the tree from $((before / 1024)) MB to $((after / 1024)) MB" \
    "($(((before - after) / 1024)) MB of apt lists, docs, man pages, other languages, logs)"
}

# boot_files TREE DIR: partition 1's files: the Pi's firmware and device trees, U-Boot, and
# image/boot's config.txt, boot.scr (compiled), kiosk-boot.env (the counter's start), kiosk.toml
# (every line commented) and README.txt. Times fixed at SOURCE_DATE_EPOCH.
boot_files() {
  local tree=$1 dir=$2 version
  version=$(ls "$tree/lib/modules")
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$tree"/usr/lib/raspi-firmware/{bootcode.bin,fixup*.dat,start*.elf} "$dir/"
  # The mainline device trees of the Pi 3/3+/4/400/CM4/Zero 2 W (upstream_kernel=1 in config.txt).
  cp "$tree/usr/lib/linux-image-$version"/broadcom/{bcm2711,bcm2837}-rpi-*.dtb "$dir/"
  cp "$tree/usr/lib/u-boot/rpi_arm64/u-boot.bin" "$dir/u-boot.bin"
  cp "$IMAGE_BOOT_DIR"/{config.txt,README.txt} "$dir/"
  commented_kiosk_toml systemd/kiosk.toml.example > "$dir/kiosk.toml"
  boot_script "$IMAGE_BOOT_DIR/boot.cmd" "$dir/boot.scr"
  boot_env "$IMAGE_BOOT_DIR/kiosk-boot.env.txt" "$dir/$BOOT_ENV_FILE"
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# commented_kiosk_toml EXAMPLE: the boot partition's kiosk.toml: the example with every line
# commented out, so as shipped it changes nothing; a technician deletes the "#" of a section's
# title and of the options this kiosk needs. Made from the example: one source for the options.
commented_kiosk_toml() {
  cat "$IMAGE_BOOT_DIR/kiosk.toml.head"
  # The example's own opening (how to use the file in /etc) does not apply here.
  sed -e '1,/^$/d' -e 's/^\([^#]\)/#\1/' "$1"
}

# boot_script CMD SCR: U-Boot's script image (mkimage -T script). Its header holds a time:
# SOURCE_DATE_EPOCH (mkimage reads it) makes it the same for the same script.
boot_script() {
  mkimage -A arm64 -O linux -T script -C none -n "kiosk A/B boot" -d "$1" "$2" > /dev/null
}

# boot_env TEXT BLOB: the boot counter's first state, as U-Boot's env import -c reads it.
boot_env() {
  mkenvimage -s "$BOOT_ENV_SIZE" -o "$2" <(grep -v '^#' "$1")
}

# fat_image DIR FILE: partition 1 as a FAT32 file system with DIR's files, the same bytes for
# the same files: --invariant fixes what mkfs.fat would take from the clock or at random, -i
# (after it) sets the volume id, and mcopy -m keeps each file's fixed mtime (in UTC).
fat_image() {
  local dir=$1 file=$2
  rm -f "$file"
  truncate -s "$BOOT_SIZE" "$file"
  TZ=UTC mkfs.vfat -F 32 -n "$BOOT_LABEL" --invariant -i "${DISK_SIGNATURE#0x}" "$file" > /dev/null
  (cd "$dir" && find . -type f | sort | sed 's|^\./||') | while read -r name; do
    TZ=UTC MTOOLS_SKIP_CHECK=1 mcopy -m -i "$file" "$dir/$name" "::$name"
  done
}

# ext4_image TREE FILE SIZE LABEL UUID SEED: an ext4 file system made from TREE, the same bytes
# for the same tree (fixed UUID, directory hash seed and times).
ext4_image() {
  local tree=$1 file=$2 size=$3 label=$4 uuid=$5 seed=$6
  rm -f "$file"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -d "$tree" -L "$label" -U "$uuid" \
    -E hash_seed="$seed",root_owner=0:0 -m 0 -T default "$file" "$size"
  fixed_inode_times "$tree" "$file"
}

# fixed_inode_times TREE FILE: every inode's access, change and creation times set to
# SOURCE_DATE_EPOCH with debugfs (a few seconds). mkfs.ext4 -d copies them from TREE, where any
# read (atime) or chmod (ctime) would change the image's bytes. Modification times are the
# tree's own: build_rootfs clamped them to SOURCE_DATE_EPOCH already (clamp_mtimes).
fixed_inode_times() {
  local tree=$1 file=$2
  (cd "$tree" && find . | LC_ALL=C sort) |
    awk -v t="@$SOURCE_DATE_EPOCH" '{ p = substr($0, 2); if (p == "") p = "/"
      printf "sif \"%s\" atime %s\nsif \"%s\" ctime %s\nsif \"%s\" crtime %s\n", p, t, p, t, p, t }' |
    debugfs_script "$file"
}

# data_image TREE FILE: the data partition: an empty ext4 with the contract's /data folders,
# made with debugfs (times from E2FSPROGS_FAKE_TIME, so the same bytes every time): kiosk/ for
# the app (the tree's kiosk user, 0700), ssh/ for the host keys (0700), rauc/ for RAUC (0755).
data_image() {
  local tree=$1 file=$2 uid gid
  read -r uid gid < <(awk -F: '$1 == "kiosk" { print $3, $4 }' "$tree/etc/passwd")
  [ -n "$uid" ] || { echo "setup: the tree has no kiosk user" >&2; return 1; }
  rm -f "$file"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L "$DATA_LABEL" -U "$DATA_FS_UUID" \
    -E hash_seed="$DATA_HASH_SEED",root_owner=0:0 -m 0 -T default "$file" "$DATA_SIZE"
  printf '%s\n' "mkdir kiosk" "mkdir ssh" "mkdir rauc" "set_inode_field kiosk mode 040700" \
    "set_inode_field kiosk uid $uid" "set_inode_field kiosk gid $gid" \
    "set_inode_field ssh mode 040700" |
    debugfs_script "$file"
}

# debugfs_script FILE: debugfs runs the commands on stdin against FILE, times taken from
# SOURCE_DATE_EPOCH; what it complains of is shown, its version banner is not.
debugfs_script() {
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w -f - "$1" 2>&1 > /dev/null |
    grep -v '^debugfs [0-9]' >&2 || true
}

# disk_image OUT NAME: genimage puts the partitions' files on the disk (image/genimage.cfg).
disk_image() {
  local out=$1 name=$2 tmp
  tmp=$(mktemp -d)
  # genimage wants a root path even when every partition is a ready file: an empty one, never
  # the tree (it would copy it whole, /proc included if something were mounted there).
  mkdir "$tmp/root"
  DISK_IMAGE=$name DISK_SIGNATURE=$DISK_SIGNATURE BOOT_SIZE=$BOOT_SIZE SLOT_SIZE=$SLOT_SIZE \
    DATA_SIZE=$DATA_SIZE genimage --config image/genimage.cfg --rootpath "$tmp/root" \
    --tmppath "$tmp/genimage" --inputpath "$out" --outputpath "$out" > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
}

compress_image() {
  local out=$1 name=$2
  rm -f "$out/$name.xz"
  xz -T0 -k -f "$out/$name"
  (cd "$out" && sha256sum "$name.xz" > "$name.xz.sha256")
}

# read_only_view TREE VIEW: TREE bind-mounted read-only at VIEW with noatime. mkfs.ext4 -d
# copies each file's atime and ctime (it has no option to fix them): read through this view,
# the image step changes neither, so running it again on the same tree gives the same bytes.
read_only_view() {
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mount -o remount,bind,ro,noatime "$2"
}

# build_image OUT: the bootable disk from OUT/rootfs: OUT/boot/ (partition 1's files),
# OUT/boot.vfat, OUT/root.ext4 (partition 2's exact bytes: UPDATE's bundle wraps this file),
# OUT/data.ext4 (partition 4), OUT/kiosk-<version>-arm64.img (kept for the QEMU check), its .xz and .sha256.
build_image() {
  local out=$1 view
  install_packages "${IMAGE_BUILD_APT_PACKAGES[@]}"
  if [ ! -x "$out/rootfs/opt/kiosk/.venv/bin/kiosk" ] || [ ! -f "$out/rootfs/etc/kiosk-release" ]; then
    echo "setup: $out/rootfs is no finished root tree: build it with ./setup.sh image $out" >&2
    return 1
  fi
  if grep -qs " $(realpath "$out/rootfs")[/ ]" /proc/mounts; then
    echo "setup: something is mounted inside $out/rootfs: unmount it first (genimage would copy it)" >&2
    return 1
  fi
  view=$(mktemp -d)
  # A failing step ends setup.sh (set -e): the view is unmounted on the way out too.
  trap "umount '$view' 2> /dev/null; rmdir '$view'" EXIT
  read_only_view "$out/rootfs" "$view"
  image_from_tree "$out" "$view"
  umount "$view" && rmdir "$view"
  trap - EXIT
}

image_from_tree() {
  local out=$1 tree=$2 version name start=$SECONDS
  # The tree's build time, whenever the image step runs: the same tree gives the same image.
  export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date -u -d \
    "$(sed -n 's/^BUILD=//p' "$tree/etc/kiosk-release")" +%s)}
  version=$(tree_version "$tree")
  name=kiosk-$version-arm64.img
  phase boot-files boot_files "$tree" "$out/boot"
  phase boot-vfat fat_image "$out/boot" "$out/boot.vfat"
  phase root-ext4 ext4_image "$tree" "$out/root.ext4" "$SLOT_SIZE" "$ROOT_LABEL" \
    "$ROOT_FS_UUID" "$ROOT_HASH_SEED"
  phase data-ext4 data_image "$tree" "$out/data.ext4"
  phase genimage disk_image "$out" "$name"
  phase xz compress_image "$out" "$name"
  echo "setup: phase image total: $((SECONDS - start)) s"
  echo "setup: sizes: tree $(du -sh "$tree" | cut -f1)," \
    "root.ext4 $(du -h --apparent-size "$out/root.ext4" | cut -f1) ($(du -h "$out/root.ext4" | cut -f1) used)," \
    "$name $(du -h --apparent-size "$out/$name" | cut -f1) ($(du -h "$out/$name" | cut -f1) used)," \
    "$name.xz $(du -h "$out/$name.xz" | cut -f1)"
  echo "setup: the image is $out/$name.xz ($(cut -d' ' -f1 "$out/$name.xz.sha256"))"
}

# image_command ARGS: `./setup.sh image [--rootfs-only|--from-tree|--check] [OUT]`.
image_command() {
  local mode=full out=build/image
  case "${1:-}" in
    --rootfs-only|--from-tree|--check) mode=${1#--}; shift ;;
  esac
  local first=${1:-}  # `${1:0:1}` of no argument is an unbound variable under set -u
  [ $# -le 1 ] && [ "${first:0:1}" != - ] || usage
  out=$(realpath -m "${1:-$out}")
  case "$mode" in
    rootfs-only)
      [ -n "${1:-}" ] || usage
      build_rootfs "$out"
      set_source_date_epoch
      phase tarball rootfs_tar "$out/rootfs" "$out/kiosk-$(tree_version "$out/rootfs")-arm64-rootfs.tar" ;;
    from-tree) build_image "$out" ;;
    full) local start=$SECONDS; build_rootfs "$out"; build_image "$out"
          echo "setup: phase total: $((SECONDS - start)) s" ;;
    check)
      if ! ls "$out"/kiosk-*-arm64.img.xz > /dev/null 2>&1; then
        local start=$SECONDS; build_rootfs "$out"; build_image "$out"
        echo "setup: phase total: $((SECONDS - start)) s"
      fi
      install_all
      install_packages "${IMAGE_CHECK_APT_PACKAGES[@]}"
      KIOSK_IMAGE_OUT=$out run_tests -m image tests/image ;;
  esac
}
