"""The e-book catalogue: monthly batches in (build, sign, verify, apply, roll back), titles out.

Knows nothing of Kivy or the kiosk's screens; the kiosk reads the current catalogue through
`content.catalogue.Catalogue`.
"""
