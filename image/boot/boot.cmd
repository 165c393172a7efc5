# The kiosk's A/B boot (compiled to boot.scr by image/build.sh; the same file on a Raspberry Pi
# with U-Boot's rpi_arm64 and in QEMU with qemu_arm64). RAUC's U-Boot contract:
# kiosk-boot.env on this partition holds BOOT_ORDER and each slot's attempts left (BOOT_A_LEFT,
# BOOT_B_LEFT). The first slot in BOOT_ORDER with attempts left loses one and boots; Linux
# (RAUC, once kiosk.service is ready) gives them back. No slot left: both get 3 again and the
# board restarts, so a kiosk never stops at the boot loader.
# Lines that start with "kiosk-boot:" on the serial console say what happened.

setenv kiosk_env_size 0x4000
setenv kiosk_env_file kiosk-boot.env
# U-Boot's distro boot found this script on partition 1 of ${devtype} ${devnum} (spelt out in
# each command below: a variable holding "virtio 0:1" would stay one word).
# Scratch space for the counter: the kernel is loaded there only after the counter is written.
setenv kiosk_env_addr ${kernel_addr_r}

setenv BOOT_ORDER
setenv BOOT_A_LEFT
setenv BOOT_B_LEFT
if load ${devtype} ${devnum}:1 ${kiosk_env_addr} ${kiosk_env_file} && env import -c ${kiosk_env_addr} ${kiosk_env_size} BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT; then
  echo "kiosk-boot: ${kiosk_env_file}: BOOT_ORDER=${BOOT_ORDER} BOOT_A_LEFT=${BOOT_A_LEFT} BOOT_B_LEFT=${BOOT_B_LEFT}"
else
  echo "kiosk-boot: ${kiosk_env_file} is missing or damaged (bad CRC): starting again from BOOT_ORDER=A B, A=3, B=0"
  setenv BOOT_ORDER "A B"
  setenv BOOT_A_LEFT 3
  setenv BOOT_B_LEFT 0
fi
# A variable left empty counts as no attempts (and an empty order as the default one).
if test -z "${BOOT_ORDER}"; then setenv BOOT_ORDER "A B"; fi
if test -z "${BOOT_A_LEFT}"; then setenv BOOT_A_LEFT 0; fi
if test -z "${BOOT_B_LEFT}"; then setenv BOOT_B_LEFT 0; fi

setenv kiosk_slot
for slot in ${BOOT_ORDER}; do
  if test -z "${kiosk_slot}"; then
    if test "${slot}" = "A" && test ${BOOT_A_LEFT} -gt 0; then
      setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
      setenv kiosk_slot A
      setenv kiosk_root PARTUUID=4b494f53-02
      setenv kiosk_slot_part 2
    elif test "${slot}" = "B" && test ${BOOT_B_LEFT} -gt 0; then
      setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
      setenv kiosk_slot B
      setenv kiosk_root PARTUUID=4b494f53-03
      setenv kiosk_slot_part 3
    fi
  fi
done

# kiosk_save: the counter back to partition 1 before anything can fail.
setenv kiosk_save 'env export -c -s ${kiosk_env_size} ${kiosk_env_addr} BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT && fatwrite ${devtype} ${devnum}:1 ${kiosk_env_addr} ${kiosk_env_file} ${kiosk_env_size} || echo "kiosk-boot: cannot write ${kiosk_env_file}: the counter did not change"'

if test -z "${kiosk_slot}"; then
  echo "kiosk-boot: no slot has boot attempts left (BOOT_ORDER=${BOOT_ORDER}): giving A and B 3 each again and restarting"
  setenv BOOT_A_LEFT 3
  setenv BOOT_B_LEFT 3
  run kiosk_save
  reset
fi

echo "kiosk-boot: booting slot ${kiosk_slot} (${kiosk_root}); attempts left now A=${BOOT_A_LEFT} B=${BOOT_B_LEFT}"
run kiosk_save

# The console: the serial port in QEMU; the screen (and the GPIO header's UART) on a Pi.
if test "${board}" = "qemu-arm"; then
  setenv kiosk_console "console=ttyAMA0,115200"
else
  setenv kiosk_console "console=ttyS1,115200 console=tty1"
fi
# panic=10: a kernel or initramfs that cannot go on restarts, and the counter decides again.
setenv bootargs "root=${kiosk_root} ro rootwait rauc.slot=${kiosk_slot} ${kiosk_console} panic=10 quiet"

# The slot's own kernel and initramfs (Debian's /boot symlinks): an update brings its kernel.
# Places relative to kernel_addr_r, which differs between the boards: 64 MiB for the kernel,
# then the initramfs; a compressed kernel is unpacked through a window 128 MiB up.
setexpr kiosk_initrd_addr ${kernel_addr_r} + 0x4000000
setexpr kernel_comp_addr_r ${kernel_addr_r} + 0x8000000
setenv kernel_comp_size 0x4000000
if load ${devtype} ${devnum}:${kiosk_slot_part} ${kernel_addr_r} /boot/vmlinuz && load ${devtype} ${devnum}:${kiosk_slot_part} ${kiosk_initrd_addr} /boot/initrd.img; then
  booti ${kernel_addr_r} ${kiosk_initrd_addr}:${filesize} ${fdtcontroladdr}
fi
# Only a slot that cannot boot comes here (no kernel, a damaged one): its attempt is spent, so
# restarting tries the next slot in time, and the kiosk never waits at the boot loader's prompt.
echo "kiosk-boot: slot ${kiosk_slot} did not boot (no /boot/vmlinuz or /boot/initrd.img, or booti failed): restarting"
reset
