"""``from llama_index.llms.kimi import Kimi``: the LlamaIndex-style import path."""

from llama_index_kimi import *  # noqa: F403
from llama_index_kimi import __all__  # noqa: F401
