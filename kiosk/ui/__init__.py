"""The kiosk's screens: thin Kivy views bound to the core's state. Runs on the Kivy main thread."""
