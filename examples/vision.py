"""An image in the prompt, sent as a base64 data URI.

    python examples/vision.py [image.png|jpg|webp|gif]   (default: examples/shapes.png)

Moonshot takes images only as data URIs (``data:image/png;base64,...``) or as
``ms://<file_id>`` of a file uploaded with ``purpose="image"``; not http(s) URLs. Models
that see images: kimi-k3, kimi-k2.7-code and kimi-k2.6 (on gateways also kimi-k2.5);
AceData takes text only. What a provider or model does not take is refused before sending, with a
``kimi_core.ConfigurationError`` that says which (try ``KIMI_PROVIDER=acedata``).
"""

from __future__ import annotations

import base64
import mimetypes
import sys
from pathlib import Path

from _backend import open_backend, run
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage, ImageBlock, TextBlock

from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

QUESTION = "What shapes and colours are in this picture?"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("shapes.png")
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    data_uri = f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"
    print(f"image: {path.name} ({mime}, {path.stat().st_size} bytes)")

    with open_backend() as backend:
        model = ChatKimi(model=backend.model, **backend.langchain_kwargs())
        message = HumanMessage(
            content=[
                {"type": "text", "text": QUESTION},
                {"type": "image_url", "image_url": {"url": data_uri}},
                # also accepted: {"type": "image", "base64": ..., "mime_type": mime}
            ]
        )
        print("LangChain: ", model.invoke([message]).text)

        llm = Kimi(model=backend.model, **backend.llama_index_kwargs())
        chat = ChatMessage(role="user", blocks=[TextBlock(text=QUESTION), ImageBlock(path=path)])
        print("LlamaIndex:", llm.chat([chat]).message.content)  # ImageBlock goes as a data URI


if __name__ == "__main__":
    run(main)
