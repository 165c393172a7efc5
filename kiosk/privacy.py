"""Masking of patron and card numbers: kept in the core (kiosk/core/privacy.py), named here too
for the runtime side's modules."""

from kiosk.core.privacy import KEEP as KEEP
from kiosk.core.privacy import mask as mask
from kiosk.core.privacy import mask_numbers_in as mask_numbers_in
