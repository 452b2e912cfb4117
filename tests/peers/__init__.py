"""pytest fixtures that start real protocol peers (Dovecot, aiosmtpd, the Bot API emulator).

The servers themselves live in ``domovoy/peers`` (the demo uses them too); these modules only
wrap them as fixtures. They are loaded as plugins from ``tests/conftest.py``.
"""
