"""policykb: a knowledge base of Chinese local education policy."""

__version__ = "0.1.0"
