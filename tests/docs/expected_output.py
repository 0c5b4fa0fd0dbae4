"""What each Python example of the README and the guides prints on the emulator.

An example is named by a piece of its code (unique in its file), and its output is a
list of regular expressions, one per printed line, each matching the whole line. The
emulator is a protocol stand-in whose answers quote the prompt, so the patterns check
what an example is about (the prompt it sent, the field it printed, the figure the text
next to it promises) without fixing the emulator's wording. ``check_output`` is the rule
both tests apply; a new example needs its entry here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

#: A request id (the emulator's: 32 hex digits).
REQUEST_ID = r"[0-9a-f]{32}"
#: LangChain's usage_metadata with reasoning tokens, as printed.
LC_USAGE = (
    r"\{'input_tokens': [1-9]\d*, 'output_tokens': [1-9]\d*, 'total_tokens': [1-9]\d*, "
    r"'input_token_details': \{'cache_read': \d+\}, 'output_token_details': \{'reasoning': [1-9]\d*\}\}"
)
#: LlamaIndex's additional_kwargs of a chat response (usage and the request id).
LI_USAGE = (
    r"\{'prompt_tokens': [1-9]\d*, 'completion_tokens': [1-9]\d*, 'total_tokens': [1-9]\d*, "
    r"'cached_tokens': \d+, 'reasoning_tokens': [1-9]\d*, 'request_id': '" + REQUEST_ID + r"'\}"
)

#: A refused https image URL (Moonshot takes data URIs or uploaded file ids).
REFUSED_URL = (
    r".*image_url\.url='https://example\.com/cat\.png' is not accepted by provider 'moonshot' "
    r".*data URI.*"
)


def quotes(*prompts: str) -> str:
    """A line that quotes each prompt, in this order (an answer, or reasoning then answer)."""
    return ".*".join(["", *(f'"{re.escape(p)}"' for p in prompts), ""])


README: dict[str, list[str]] = {
    'msg = model.invoke("Why is the sky blue?")': [
        quotes("Why is the sky blue?"),  # the answer
        quotes("Why is the sky blue?"),  # the reasoning
        LC_USAGE,
        REQUEST_ID,
        quotes("Count to five.", "Count to five."),  # reasoning deltas, then the answer
    ],
    "Settings.llm = llm": [
        quotes("Say hello in French."),
        "block_type='thinking' content=" + quotes("Why is the sky blue?"),
        LI_USAGE,
        quotes("Count to five.", "Count to five."),
    ],
}

GUIDES: dict[str, dict[str, list[str]]] = {
    "langchain.md": {
        "print(msg.content_blocks[0])": [
            quotes("Hello"),
            quotes("Hello"),
            r"\{'type': 'reasoning', 'reasoning': '" + quotes("Hello") + r"'\}",
            LC_USAGE,
            REQUEST_ID,
            quotes("Count to five.", "Count to five."),
        ],
        '.response_metadata["model_provider"])': ["openai-compatible"],
        "temprature=0.5": [
            r"temperature=0 is not accepted by model 'kimi-k3': .*only 1 is allowed.*",
            r"temprature=0\.5 is not a parameter of ChatKimi calls \(did you mean 'temperature'\?\): .*",
            r"n=2 is not accepted when streaming: .*",
        ],
        'k3 = ChatKimi(model="kimi-k3", reasoning_effort="low")': [
            quotes("What is 17 * 19?"),
            "1048576",
            quotes("And 17 * 23?"),
            quotes("Hello"),
        ],
        'lambda: ChatKimi(model="kimi-k3", thinking=False).invoke("hi")': [
            r"thinking=False is not accepted by model 'kimi-k3': .*",
            r"thinking=False is not accepted by model 'kimi-k2\.7-code': .*",
            r"reasoning_effort='low' is not accepted by model 'kimi-k2\.6': .*",
            r"thinking\.keep='all' is not accepted by model 'kimi-k2\.6': .*",
        ],
        "def get_weather(city: str) -> str:": [r".*18 C and sunny in Paris.*"],
        'forced.invoke("Weather in Rome, please.")': [r"\{'city': 'Rome'\}"],
        "with_structured_output(Person).invoke(": [
            r"name='Alice' age=30",
            r"name='\w+' age=\d+ None",  # parsed, and no parsing error
        ],
        'print(f"{provider:9} {model_id:17}': [
            r"moonshot +kimi-k3 +thinking=None: json_schema",
            r"moonshot +kimi-k2\.6 +thinking=None: json_schema",
            r"gptproto +kimi-k3 +thinking=None: function_calling",
            r"acedata +kimi-k2\.5 +thinking=None: function_calling",
            r"acedata +kimi-k2\.5 +thinking=True: json_mode",
            r"evolink +kimi-k2-thinking +thinking=None: json_mode",
            r"gptproto +kimi-k2\.5 +thinking=None: function_calling",
        ],
        "# ... AceData documents response formats": [
            r"method='json_schema' is not accepted by provider 'acedata' .*json_object, text.*",
        ],
        "bind_web_search()": [quotes("What happened in Paris today?")],
        "print(prefix.content + reply.content)": [r'\{"name": ".+'],
        "print(model.invoke([question]).content)": [quotes("What is in this picture? [media]")],
        "https://example.com/cat.png": [REFUSED_URL],
        "print(err.status_code, err.code, err.message)": [
            r"400 invalid_request_error .*exceeded model token limit: \d+ .*",
            quotes("hi"),  # the fallback answered
        ],
        "get_num_tokens_from_messages": [r"[1-9]\d*", "262144 False"],
        "print(tagged.default_headers)": [
            r"\{'X-Gateway-Token': 'gw-123', 'X-Team': 'a'\}",
            r'\{"lc": 1, .*"api_key": \{"lc": 1, "type": "secret", .*"X-Gateway-Token": "\*+".*',
            quotes("hi"),
        ],
    },
    "llama_index.md": {
        "print(response.message.blocks[0])": [
            quotes("Say hello in French."),
            quotes("Why is the sky blue?"),
            "block_type='thinking' content=" + quotes("Why is the sky blue?"),
            LI_USAGE,
            quotes("Count to five.", "Count to five."),
        ],
        "print(provider, Kimi(provider=provider).model)": [
            "moonshot-cn kimi-k2.6",
            "acedata kimi-k2.5",
            "evolink kimi-k2-thinking",
            "gptproto kimi-k2.5",
        ],
        'print(gateway.complete("Hello"))': [quotes("Hello")],
        "print(llm.metadata.context_window, llm.metadata.num_output)": [
            "262144 32768",
            "1048576",
            "2048",
        ],
        'extra_body={"user": "docs-reader"}': [
            quotes("Hello"),
            r"temprature=0\.5 is not a parameter of Kimi\.chat \(did you mean 'temperature'\?\): .*",
            r"reasoning_efort='low' is not a parameter of Kimi \(did you mean 'reasoning_effort'\?\): .*",
            r"thinking=False is not accepted by model 'kimi-k3': .*",
            r"n=2 is not accepted when streaming: .*",
        ],
        "print('{\"colours\": [' + prefixed.message.content)": [r'\{"colours": \[.+'],
        'print("\\n", await handler)': [
            r".*get_weather\(city=\"Paris\"\).*",  # the streamed reasoning of turn 1
            r"\[get_weather\(\{'city': 'Paris'\}\) -> It is 21 C in Paris\.\]",
            r".*celsius_to_fahrenheit\(celsius=21\).*",  # turn 2: the argument from the result
            r"\[celsius_to_fahrenheit\(\{'celsius': 21\}\) -> 69\.8 F\]",
            r".*Paris: .*21 C.*, which is 69\.8 F\..*",  # turn 3: reasoning, then the answer
            r" Paris: .*21 C.*, which is 69\.8 F\..*",  # the agent's final answer
        ],
        "llm.get_tool_calls_from_response(forced)": [
            r"\[ToolSelection\(.*tool_name='get_weather', tool_kwargs=\{'city': 'Rome'\}\)\]",
            r"tool_choice forced a tool call, but the model answered without a tool call .*'auto'.*",
        ],
        "print(llm.structured_predict(City, prompt, text=text))": [
            r"name='Paris' population=2100000",
            *[r"name=('Paris'|None) population=(2100000|None)"] * 3,  # partial objects
            r"name='Paris' population=2100000",
        ],
        "# method='json_schema' is not accepted by provider 'acedata'": [
            r"method='json_schema' is not accepted by provider 'acedata' .*json_object, text.*",
        ],
        "What happened in Paris today?": [quotes("What happened in Paris today?")],
        'engine.query("Which Kimi model always thinks?")': [r".*kimi-k2-thinking always thinks.*"],
        "print(llm.chat([msg]).message.content)": [quotes("What is in this picture? [media]")],
        "https://example.com/cat.png": [REFUSED_URL],
        "print(err.status_code, err.message, err.request_id)": [
            r"400 .*exceeded model token limit: 262144 .* " + REQUEST_ID,
        ],
        'print(tagged.to_dict()["default_headers"])': [
            r"\{'X-Gateway-Token': '\*+', 'X-Team': 'a'\}",
            quotes("hi"),
        ],
    },
    "documents.md": {
        'folder = Path("reports")': [],
        'loader = KimiFileLoader("reports/", glob="**/*")': [
            r"plan\.html text/html 24",
            r"q3\.md text/markdown 55",
            r"Plan",
            r"Hire two engineers\.",
        ],
        "reader = KimiFileReader()": [
            r"q3\.md finance",
            r"\['plan\.html', 'q3\.md'\]",
        ],
        "messages = kimi_document_messages(docs, model=chat": [
            r"3 platform True 262144",
            quotes("When is the launch?"),
        ],
        "text = kimi_core.extract_text(": [r"text/markdown False True"],
    },
    "emulator.md": {
        "print(len(emu.requests), emu.requests[-1].path)": [
            quotes("What's the weather in Paris?"),
            quotes("Hello"),
            "2 /v1/chat/completions",
        ],
    },
    "batch.md": {
        "answers = model.batch(": [
            quotes("Label: the lamp flickers"),
            quotes("Label: great service"),
        ],
        "batch_id = model.batch_api_submit(inputs": [
            "validating|in_progress|finalizing|completed",  # how far it got: load decides
            quotes("Summarise: the bridge reopens on Monday"),
            quotes("Summarise: the market moves to Friday"),
            r"batch batch_[0-9a-f]+ cannot be cancelled: it is 'completed'; a batch can be "
            r"cancelled only while finalizing, in_progress, validating.*",
        ],
        "responses = llm.batch_chat(messages": [
            quotes("Tag: the ferry is late"),
            quotes("Summarise report 1"),
            quotes("Summarise report 2"),
        ],
        'Path("batch_id.txt").write_text(batch_id)': [quotes("Classify: printer jammed")],
        "for result in client.batches.results(batch):": [
            r"completed BatchRequestCounts\(total=2, completed=2, failed=0\)",
            r"kimi-[0-9a-f]{12}-0 True",
            r"kimi-[0-9a-f]{12}-1 True",
        ],
    },
}


def expectation_for(code: str, expected: Mapping[str, Sequence[str]], where: str) -> Sequence[str]:
    """The expected lines of the example whose code contains exactly one key."""
    keys = [key for key in expected if key in code]
    if len(keys) != 1:
        raise AssertionError(
            f"{where}: {len(keys)} entries of tests/docs/expected_output.py name this example "
            f"({keys}); give each example exactly one (what it prints)"
        )
    return expected[keys[0]]


def check_output(output: str, patterns: Sequence[str], where: str) -> None:
    """Each printed line matches its pattern, and nothing else was printed."""
    lines = output.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    shown = "\n".join(lines)[-3000:]
    assert len(lines) == len(patterns), (
        f"{where} printed {len(lines)} lines, {len(patterns)} expected:\n{shown}"
    )
    for n, (line, pattern) in enumerate(zip(lines, patterns, strict=True), 1):
        assert re.fullmatch(pattern, line), (
            f"{where}, printed line {n}:\n  {line[:500]}\ndoes not match\n  {pattern}\n--- output\n{shown}"
        )
