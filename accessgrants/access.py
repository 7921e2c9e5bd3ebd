"""The accessgrants app's front door: may this caller do this in this space, and which connection serves it.

Other apps ask these questions here (besides the models) and nowhere else in ``accessgrants``:
how the rules, the vendors and the credential cache answer them is this app's own business.
"""

from __future__ import annotations

from accessgrants.vending.issuing import NotVendable, check_access, connection_of
from connections.storage import Access, Target

__all__ = ["Access", "NotVendable", "Target", "check_access", "connection_of"]
