"""freshbin: make sure a Rust service deployed with docker buildx runs the code you committed."""

__version__ = "0.1.0"
