"""comicc: a declarative comic-script compiler."""

__version__ = "0.1.0"
