"""Policy: what correct proxy configuration is, and findings where it is not.

It decides from plain facts and imports nothing of parsing, rendering, fixing or
the command line (an import-linter contract); PyYAML reads NodeConfig parts.
"""
