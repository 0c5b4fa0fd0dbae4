"""A local Kimi-compatible HTTP server (placeholder until the emulator lands)."""
