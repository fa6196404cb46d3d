"""Carrier tracking APIs read through karrio, and carrier detection from tracking numbers."""
import warnings

with warnings.catch_warnings():
    # karrio imports PyPDF2, which announces its own deprecation when first imported
    warnings.filterwarnings("ignore", message="PyPDF2 is deprecated", category=DeprecationWarning)
    import karrio.lib  # noqa: F401

from loguru import logger  # noqa: E402

# karrio logs every request, and every failure it turns into a message with its traceback, to
# stderr; the trackers report those failures as AdapterErrors, so karrio's own log is noise
logger.disable("karrio")

from adapters.carriers.dhl import DHLExpressTracker  # noqa: E402
from adapters.carriers.fedex import FedExTracker  # noqa: E402
from adapters.carriers.ups import UPSTracker  # noqa: E402
from adapters.carriers.usps import USPSTracker  # noqa: E402

#: every real carrier tracker, in the order a listing shows them
TRACKERS = (USPSTracker, UPSTracker, FedExTracker, DHLExpressTracker)

__all__ = ["DHLExpressTracker", "FedExTracker", "TRACKERS", "UPSTracker", "USPSTracker"]
