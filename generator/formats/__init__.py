"""Output formats of a Report: plain text, JSON, SARIF 2.1.0, GitHub workflow commands. Formatting only."""
