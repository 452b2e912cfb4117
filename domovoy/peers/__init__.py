"""Local protocol peers (Bot API emulator, mail servers) used only by the demo and the tests.

Production code never imports from here; it exists so that tests and ``domovoy demo`` can run
the real clients against real protocol servers on loopback.
"""
