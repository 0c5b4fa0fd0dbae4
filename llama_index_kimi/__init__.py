"""LlamaIndex integration for Kimi (Moonshot AI): ``Kimi``."""

__all__: list[str] = []
