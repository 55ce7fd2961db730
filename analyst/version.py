"""analyst's version: a leaf module, so that anything may say it without importing the package."""

__version__ = "0.1.0"
