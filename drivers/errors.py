"""The drivers' exception root. Drivers import nothing from the kiosk, so they have their own."""


class DeviceError(OSError):
    """A device cannot be used right now; its driver shows it lost and tries again."""


class DeviceDegraded(DeviceError):
    """A device answers, but too often late or garbled: it shows degraded and is reopened."""


class SourceError(DeviceError, ValueError):
    """A source string cannot be understood; the config check reports it at start."""


class ReaderError(DeviceError):
    """An RFID reader did not do what was asked."""


class ReaderTimeout(ReaderError, TimeoutError):
    """No complete reply within the time the reader is given."""


class BadFrame(ReaderError):
    """A reply with a bad checksum, length or shape: counted as garbage, then retried."""


class TagNotAnswering(ReaderError):
    """The addressed tag did not answer: usually lifted off the pad."""


class NotSupported(ReaderError, NotImplementedError):
    """The reader or tag cannot do this (EAS on a reader without it, say)."""


class PrinterError(DeviceError):
    """A receipt was not printed."""


class PrinterOffline(PrinterError):
    """The printer is not connected, or says it is offline or in error."""


class PrinterPaperOut(PrinterError):
    """The printer has no paper."""


class PrinterCoverOpen(PrinterError):
    """The printer's cover is open."""


class PrinterTimeout(PrinterError, TimeoutError):
    """The printer did not answer, or the job was not done in the time given."""
