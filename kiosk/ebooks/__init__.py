"""E-books on the kiosk: signed QR download links, and (to come) the download server."""
