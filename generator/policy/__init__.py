"""Policy: what correct proxy configuration is, and findings where it is not.

Standard library only: the checkov rules import this package from checkov's
own environment, where python-hcl2, Jinja2 and Typer are not installed.
"""
