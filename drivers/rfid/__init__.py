"""Library RFID: reader links (3M 810, TI TRF7970A), tag data models, and the pad driver."""
