"""The ``minuta`` command-line client."""
