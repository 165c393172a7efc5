# Updates for the SD-card image (issue 14): the update key, RAUC's files in the image's tree,
# and the signed bundle. Sourced by setup.sh (it runs nothing by itself); bash, set -euo pipefail.
#   ./setup.sh update-key [DIR]   the project's update CA and signing key (once, kept secret)
#   ./setup.sh bundle [OUT]       OUT/kiosk-<version>-arm64.raucb from OUT/root.ext4
# The image build calls `install_update_config TREE` when this file defines it.

UPDATE_KEY_DEFAULT=${KIOSK_UPDATE_KEY:-$HOME/.config/library-kiosk/update-key}
UPDATE_COMPATIBLE=library-kiosk-rpi-arm64
UPDATE_CONFIG_DIR=image/rauc
# What the kiosk's tree needs for updates: RAUC, its D-Bus service (`rauc status` and
# `rauc install` talk to it), and fw_printenv/fw_setenv for U-Boot's boot counter.
UPDATE_TREE_PACKAGES=(rauc rauc-service libubootenv-tool)
# What `./setup.sh bundle` needs here.
UPDATE_APT_PACKAGES=(rauc squashfs-tools openssl)
# The key folder's files: the CA signs the signing certificate; kiosks trust the CA.
UPDATE_CA_KEY=ca.key.pem
UPDATE_CA_CERT=ca.cert.pem
UPDATE_SIGNING_KEY=signing.key.pem
UPDATE_SIGNING_CERT=signing.cert.pem
UPDATE_KEY_DAYS=7300  # 20 years: a kiosk that cannot check a bundle cannot be updated remotely

# make_update_key DIR [NAME]: a CA and a signing certificate it issued, in DIR (made 0700);
# private keys 0600. Never overwrites: a second CA would lock out every kiosk already flashed.
make_update_key() {
  local dir=$1 name=${2:-Library kiosk} tmp
  if [ -e "$dir/$UPDATE_CA_KEY" ] || [ -e "$dir/$UPDATE_SIGNING_KEY" ]; then
    echo "setup: $dir already holds an update key: kept as it is (kiosks flashed with its CA" \
      "trust only bundles it signs). To start over on purpose, move the folder away first." >&2
    return 1
  fi
  install -d -m 0700 "$dir"
  tmp=$(mktemp -d)
  # The private keys are made 0600 from the start (umask), not chmod-ed afterwards.
  (
    umask 077
    openssl req -x509 -newkey rsa:4096 -nodes -sha256 -days "$UPDATE_KEY_DAYS" \
      -subj "/O=$name/CN=$name update CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$dir/$UPDATE_CA_KEY" -out "$dir/$UPDATE_CA_CERT" 2> "$tmp/log" \
    && openssl req -newkey rsa:4096 -nodes -sha256 -subj "/O=$name/CN=$name update signing" \
      -keyout "$dir/$UPDATE_SIGNING_KEY" -out "$tmp/signing.csr" 2>> "$tmp/log" \
    && printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" > "$tmp/ext.cnf" \
    && openssl x509 -req -sha256 -days "$UPDATE_KEY_DAYS" -in "$tmp/signing.csr" \
      -CA "$dir/$UPDATE_CA_CERT" -CAkey "$dir/$UPDATE_CA_KEY" -set_serial 1 \
      -extfile "$tmp/ext.cnf" -out "$dir/$UPDATE_SIGNING_CERT" 2>> "$tmp/log"
  ) || { cat "$tmp/log" >&2; rm -rf "$tmp"; echo "setup: openssl could not make the key" >&2
         return 1; }
  rm -rf "$tmp"
  chmod 0644 "$dir/$UPDATE_CA_CERT" "$dir/$UPDATE_SIGNING_CERT"
}

# update_key DIR: `./setup.sh update-key [DIR]`, with what to keep secret and where.
update_key() {
  local dir=$1
  install_packages openssl
  make_update_key "$dir"
  cat <<EOF
setup: the update key is in $dir:
  $UPDATE_CA_CERT       the CA certificate: every image built here trusts it (/etc/rauc/keyring.pem)
  $UPDATE_SIGNING_CERT  the certificate bundles are signed with
  $UPDATE_CA_KEY        SECRET: the CA's private key (it can make new signing certificates)
  $UPDATE_SIGNING_KEY   SECRET: signs bundles; whoever has it can update every kiosk
Keep both *.key.pem files secret and back up the whole folder now, offline (two USB sticks kept
apart, or the library's password safe). Lose them and the kiosks already flashed can be
updated only by flashing their SD cards again. Never put them on a kiosk or in git.
EOF
}

# update_key_for OUT: the key folder that signs OUT's bundles and whose CA OUT's tree trusts:
# the project's key when it exists, else a development key made once in OUT (loudly).
update_key_for() {
  local out=$1
  if [ -e "$UPDATE_KEY_DEFAULT/$UPDATE_SIGNING_KEY" ]; then
    echo "$UPDATE_KEY_DEFAULT"
    return 0
  fi
  if [ ! -e "$out/dev-update-key/$UPDATE_SIGNING_KEY" ]; then
    make_update_key "$out/dev-update-key" "Library kiosk DEVELOPMENT" >&2
  fi
  cat >&2 <<EOF
setup: WARNING: no update key in $UPDATE_KEY_DEFAULT: using a DEVELOPMENT key made in
setup: WARNING: $out/dev-update-key. Kiosks flashed with this image trust only bundles signed
setup: WARNING: by it. A fleet needs its own key: run './setup.sh update-key' once, back it up,
setup: WARNING: then build the image again before flashing kiosks.
EOF
  echo "$out/dev-update-key"
}

# install_update_config TREE: RAUC's system.conf and the keyring (the CA certificate) in the
# image's tree, and /data/rauc made at boot. The key comes from update_key_for TREE's folder.
# Also RAUC locked down: the pre-install handler refusing older bundles, and the D-Bus policy
# that leaves installing and marking slots to root.
install_update_config() {
  local tree=$1 key
  key=$(update_key_for "$(dirname "$tree")")
  install -d -m 0755 "$tree/etc/rauc" "$tree/etc/tmpfiles.d" "$tree/usr/lib/kiosk" \
    "$tree/etc/dbus-1/system.d"
  install -m 0644 "$UPDATE_CONFIG_DIR/system.conf" "$tree/etc/rauc/system.conf"
  install -m 0644 "$key/$UPDATE_CA_CERT" "$tree/etc/rauc/keyring.pem"
  install -m 0755 "$UPDATE_CONFIG_DIR/pre-install" "$tree/usr/lib/kiosk/rauc-pre-install"
  install -m 0644 "$UPDATE_CONFIG_DIR/kiosk-rauc-dbus.conf" "$tree/etc/dbus-1/system.d/kiosk-rauc.conf"
  echo "d /data/rauc 0755 root root -" > "$tree/etc/tmpfiles.d/kiosk-rauc.conf"
  echo "setup: RAUC in the tree trusts the update CA of $key"
}

# release_value FILE KEY: KEY's value in an os-release style file (/etc/kiosk-release).
release_value() {
  sed -n "s/^$2=//p" "$1" | tail -n 1 | tr -d '"'
}

# build_bundle OUT: OUT/kiosk-<version>-arm64.raucb wrapping OUT/root.ext4 (the same bytes as
# the image's root slot), signed with update_key_for OUT, then checked with the tree's keyring.
build_bundle() {
  local out=$1 tree key version build staging bundle start=$SECONDS
  tree=$out/rootfs
  if [ ! -f "$out/root.ext4" ] || [ ! -f "$tree/etc/kiosk-release" ]; then
    if ! declare -F build_image > /dev/null; then
      echo "setup: $out has no root.ext4 and this setup.sh cannot build the image:" \
        "run ./setup.sh image $out first" >&2
      return 1
    fi
    # IMAGE's functions (image/build.sh): the tree only when OUT has none, then the image.
    if [ ! -f "$tree/etc/kiosk-release" ]; then
      echo "setup: $out has no root tree yet: building it first"
      build_rootfs "$out"
    fi
    echo "setup: $out has no image yet: building it first"
    build_image "$out"
  fi
  install_packages "${UPDATE_APT_PACKAGES[@]}"
  version=$(release_value "$tree/etc/kiosk-release" VERSION)
  build=$(release_value "$tree/etc/kiosk-release" BUILD)
  if [ -z "$version" ]; then
    echo "setup: $tree/etc/kiosk-release has no VERSION: build the image again" >&2
    return 1
  fi
  key=$(update_key_for "$out")
  staging=$out/bundle
  bundle=$out/kiosk-$version-arm64.raucb
  rm -rf "$staging" "$bundle"
  mkdir -p "$staging"
  # A hard link, not a copy: the slot image is the image's own file, byte for byte.
  ln "$out/root.ext4" "$staging/root.ext4" 2> /dev/null || cp "$out/root.ext4" "$staging/"
  sed -e "s/@VERSION@/$version/g" -e "s/@BUILD@/${build:-unknown}/g" \
    "$UPDATE_CONFIG_DIR/manifest.raucm" > "$staging/manifest.raucm"
  rauc bundle --cert "$key/$UPDATE_SIGNING_CERT" --key "$key/$UPDATE_SIGNING_KEY" \
    "$staging" "$bundle"
  rm -rf "$staging"
  # What a kiosk flashed from OUT will check: the signature against the tree's keyring.
  rauc info --keyring "$tree/etc/rauc/keyring.pem" "$bundle"
  echo "setup: the bundle is $bundle ($(du -h "$bundle" | cut -f1)), in $((SECONDS - start)) s;" \
    "on a kiosk: kiosk update install $(basename "$bundle")"
}
