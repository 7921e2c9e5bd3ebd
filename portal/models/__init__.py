"""The portal app's model registry: Django finds the models of tenancy, audit, auth and core through here.

Code imports each model from its own module (``portal.tenancy.models``, ``portal.audit.models``,
``portal.auth.models``, ``portal.core.models``), not from this package.
"""

from __future__ import annotations

import portal.audit.models
import portal.auth.models
import portal.core.models
import portal.tenancy.models  # noqa: F401 - imported so Django registers their models
