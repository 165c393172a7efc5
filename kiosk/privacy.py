"""Masking of patron and card numbers, named here for the runtime side's modules: kept in
common/masking.py (pure standard library), which the log formatter uses too."""

from common.masking import KEEP as KEEP
from common.masking import mask as mask
from common.masking import mask_numbers_in as mask_numbers_in
