"""Device drivers. They know nothing of the kiosk: each reports frozen events on one queue."""
