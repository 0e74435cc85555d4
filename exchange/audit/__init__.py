"""The audit log: every decision, read, write, share and erasure, hash-chained and verifiable."""
