"""Updates of a kiosk flashed from the SD-card image: RAUC's A/B root slots and U-Boot's boot
counter, read and acted on (issue 14).

`release` reads /etc/kiosk-release and the kernel's command line, `rauc` reads and drives
`rauc` (status, install, mark-good), `bootenv` reads U-Boot's counter with fw_printenv, `state`
puts them together as a technician reads them (this slot, its version, the other slot, whether
the last update fell back), and `confirm` keeps a trial boot or lets it fall back. From the
central server: `pull` fetches a newer release inside the update window (`window`), `apply`
installs it and restarts once the app's `activity` file says nobody is using the kiosk;
`versions` orders versions. Everything runs the tools through a `kiosk.commands.Runner`, on
the caller's thread.
"""
