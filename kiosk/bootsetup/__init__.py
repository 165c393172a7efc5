"""`kiosk boot-setup`: what a technician puts on the SD card's boot folder, applied at every boot.

Run as root by kiosk-firstboot.service before kiosk.service. One module per job: `paths` (where
everything goes, the single source of defaults), `boot_folder` (finding the folder, reading its
files), `outcome` (problems, changes and facts for the report), `files` (atomic private writes),
`token`, `wifi`, `ssh_keys`, `hostname`, `ntp`, `data_partition`, and `run` (the order).
`data_layout` (/data's folders) and `host_keys` (the SSH host keys) run from their own units
earlier in the boot (`kiosk data-layout`, `kiosk host-keys`); `data_folder` serves both.
"""
