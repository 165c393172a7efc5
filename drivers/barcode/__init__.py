"""Barcodes: key events to text (keymap), AIM and Codabar wrappers (symbology), what a code is
(classify), and the checks every scan passes before it becomes an event (reading)."""
