"""The Redis implementations, for several workers and hosts."""
