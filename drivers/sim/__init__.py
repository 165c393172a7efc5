"""Simulated devices: shipped code for the demo and the tests, never a silent fallback.

Each twin speaks the real device's wire protocol (a pty for serial devices, real
`evdev.InputEvent`s for keyboard-wedge scanners), so the real driver code runs against it.
"""
