"""The models Django registers for this app.

Its one model, ``Grant``, is defined in :mod:`portal.tenancy.grants` under this app's label;
importing that module here registers it with this app when Django loads the models, so the
migrations, permissions and content type stay this app's. Import it from there.
"""

from __future__ import annotations

import portal.tenancy.grants  # noqa: F401 - registers Grant under the accessgrants label
