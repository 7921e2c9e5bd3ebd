"""One package per cloud, each exporting a descriptor; :mod:`connections.providers.registry` lists them."""
