"""``spaceport``: the command-line client people run on their own machines.

It talks to a portal over HTTPS with a personal API token and imports nothing of the server, so it
needs only Python and ``requests`` and runs where the portal's dependencies are not installed.
"""
