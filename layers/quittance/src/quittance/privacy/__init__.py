"""Personal data protection: per-customer keys, evidence, erasure, export, retention."""
