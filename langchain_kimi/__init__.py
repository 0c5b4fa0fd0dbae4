"""LangChain integration for Kimi (Moonshot AI): ``ChatKimi``."""

__all__: list[str] = []
