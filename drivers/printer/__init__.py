"""Receipt printers: the ESC/POS encoder and status parser (pure), and the serial driver."""
