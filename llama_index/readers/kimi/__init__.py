"""``from llama_index.readers.kimi import KimiFileReader``: the LlamaIndex-style import path."""

from llama_index_kimi.readers import *  # noqa: F403
from llama_index_kimi.readers import __all__  # noqa: F401
