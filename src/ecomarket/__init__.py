"""EcoMarket: the back office of a chain of shops."""

__version__ = "0.1.0"
