"""``make bench``: every benchmark side by side with its peers, in one run; writes
``benchmarks/RESULTS.md`` (machine, versions, command, figures, goals).

    python benchmarks/run_all.py [--quick]

``--quick`` shortens every benchmark (a smoke run, not figures to publish: it writes
neither file). A full run also rewrites CONTRIBUTING.md's performance table (between its
``bench:start`` / ``bench:end`` marks) from the same figures, so the two never disagree.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import agent_turn
import concurrency
import imports
import langchain_stream
import llama_index_stream
import request_build
import soak
import transport
from _harness import machine, table, versions

RESULTS = Path(__file__).with_name("RESULTS.md")
README = Path(__file__).resolve().parent.parent / "CONTRIBUTING.md"
README_MARKS = ("<!-- bench:start (written by make bench) -->", "<!-- bench:end -->")


class Section(NamedTuple):
    """A benchmark's part of RESULTS.md, whether its goal was met, and its README row
    (benchmark, result, goal), from the same figures."""

    text: str
    met: bool
    row: list[str]


def _ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def stream_section(title: str, label: str, r: dict[str, Any], goal: float) -> Section:
    ours, peer = r["names"][:2]
    rows = [
        [
            mode,
            f"{r[mode]['chunks_per_s'][0]:,.0f}",
            f"{r[mode]['chunks_per_s'][1]:,.0f}",
            f"{r[mode]['ratio']:.1f}x",
        ]
        for mode in ("sync", "async")
    ]
    worst = min(r["sync"]["ratio"], r["async"]["ratio"])
    met = worst >= goal
    text = (
        f"### {title}\n\nThe same stream of {r['chunks']:,} content deltas from the emulator "
        f"(in its own process), {r['rounds']} alternating rounds; chunks/s of each client's "
        "median round, ratio = the quotient of the two rates.\n\n"
        + table(["", f"{ours} chunks/s", f"{peer} chunks/s", "ratio"], rows)
        + f"\n\nGoal at least {goal:g}x: {_ok(met)} (worse of sync and async: {worst:.1f}x).\n"
    )
    result = ", ".join(
        f"{r[m]['chunks_per_s'][0]:,.0f} vs {r[m]['chunks_per_s'][1]:,.0f} chunks/s {m} "
        f"({r[m]['ratio']:.1f}x)"
        for m in ("sync", "async")
    )
    return Section(text, met, [label, result, f"≥ {goal:g}x"])


def transport_section(r: dict[str, Any]) -> Section:
    rows = [
        [
            mode,
            f"{r[mode]['floor_cps']:,.0f}",
            f"{r[mode]['core_cps']:,.0f}",
            f"{r[mode]['slowdown']:.2f}x",
        ]
        for mode in ("sync", "async")
    ]
    worst = max(r["sync"]["slowdown"], r["async"]["slowdown"])
    met = worst <= 2
    t = r["ttft"]
    text = (
        "### The transport alone vs plain httpx + json.loads\n\n"
        f"`KimiClient.stream` (HTTP, SSE decoding, JSON, stream assembly) against httpx's line "
        f"iterator and one `json.loads` per line, the same {r['chunks']:,}-delta stream, "
        f"{r['rounds']} alternating rounds; chunks/s of each one's median round, time vs "
        "the floor = the quotient of the two rates.\n\n"
        + table(
            ["", "httpx + json.loads chunks/s", "kimi_core chunks/s", "time vs the floor"], rows
        )
        + f"\n\nGoal within 2x of the floor: {_ok(met)} ({worst:.2f}x).\n\n"
        "### Time to first token\n\n"
        "Median over 40 requests of a short stream, from sending to the first content delta.\n\n"
        + table(
            ["plain httpx", "kimi_core", "overhead"],
            [[f"{t['floor_ms']:.2f} ms", f"{t['core_ms']:.2f} ms", f"{t['overhead_ms']:+.2f} ms"]],
        )
        + "\n"
    )
    slow = (r["sync"]["slowdown"], r["async"]["slowdown"])
    result = (
        f"{slow[0]:.2f}x / {slow[1]:.2f}x the floor's time, sync / async; "
        f"time to first token {t['overhead_ms']:+.2f} ms"
    )
    row = ["`KimiClient.stream` vs plain httpx + `json.loads`", result, "within 2x"]
    return Section(text, met, row)


def imports_section(r: dict[str, Any]) -> Section:
    rows = []
    for label, m in r.items():
        pulls = [
            k[8:] for k in ("imports_openai", "imports_langchain", "imports_llama_index") if m[k]
        ]
        rows.append([f"`{label}`", f"{m['seconds'] * 1e3:.0f} ms", ", ".join(pulls) or "-"])
    floor = r["httpx, pydantic (the floor)"]["seconds"]
    core = r["kimi_core"]["seconds"]
    lk, li = r["langchain_kimi"], r["llama_index_kimi"]
    met = (
        core - floor < 0.2
        and not lk["imports_openai"]
        and not lk["imports_llama_index"]
        and not li["imports_openai"]
        and not li["imports_langchain"]
    )
    text = (
        "### Import time\n\nA fresh interpreter per import, best of 7.\n\n"
        + table(["import", "time", "also imports"], rows)
        + f"\n\n`import kimi_core` costs {(core - floor) * 1e3:+.0f} ms over `import httpx, pydantic` "
        f"(goal: well under 200 ms); `langchain_kimi` imports neither openai nor llama_index, "
        f"`llama_index_kimi` neither openai nor langchain: {_ok(met)}.\n"
    )
    result = f"{(core - floor) * 1e3:+.0f} ms over `import httpx, pydantic`"
    return Section(text, met, ["`import kimi_core`", result, "well under 200 ms"])


def concurrency_section(r: dict[str, Any]) -> Section:
    rows = []
    rates: dict[tuple[int, str], float] = {}
    complete = True
    for key, m in r["runs"].items():
        n, name = key.split("|")
        if "failed" in m:
            rows.append([n, name, "failed", "", "", "", ""])
            complete = False
            continue
        rates[(int(n), name)] = m["chunks_per_s"]
        complete &= m["completed"] == int(n) and m["errors"] == 0
        rows.append(
            [
                n,
                name,
                f"{m['completed']}",
                f"{m['errors']}",
                f"{m['wall']:.2f} s",
                f"{m['chunks_per_s']:,.0f}",
                f"{m['peak_rss_mib']:.0f} MiB",
            ]
        )
    pairs = [
        ("langchain_kimi ChatKimi", "langchain_openai ChatOpenAI"),
        ("llama_index_kimi Kimi", "llama_index OpenAILike"),
    ]
    ratio_rows = []
    met = complete
    for n in sorted({k[0] for k in rates}):
        for ours, peer in pairs:
            if (n, ours) in rates and (n, peer) in rates:
                ratio = rates[(n, ours)] / rates[(n, peer)]
                goal = _concurrency_goal(n, ours)
                met &= ratio >= goal
                ratio_rows.append([n, f"{ours} / {peer}", f"{ratio:.1f}x", f"≥ {goal:g}x"])
    text = (
        "### Concurrency: many async streams on one event loop\n\n"
        f"Each contender in a fresh interpreter, all streams started at once with `asyncio.gather`, "
        f"{r['chunks']} content deltas each (a typical answer), model {r['model']} (it takes only "
        f"temperature 1.0: OpenAILike is given 1.0, ChatOpenAI sends none); {r['rounds']} "
        "alternating rounds, the best wall time of each contender.\n\n"
        + table(["streams", "client", "completed", "errors", "wall", "chunks/s", "peak RSS"], rows)
        + "\n\n"
        + table(["streams", "aggregate rate", "ratio", "goal"], ratio_rows)
        + "\n\nGoal all complete, ChatKimi's 200 streams at least 5x ChatOpenAI's aggregate rate "
        f"(issue 15), every other pair at least 3x: {_ok(met)}.\n"
    )
    counts = sorted({k[0] for k in rates})
    by_pair = {
        (ours, peer): " / ".join(
            f"{rates[(n, ours)] / rates[(n, peer)]:.1f}x"
            for n in counts
            if (n, ours) in rates and (n, peer) in rates
        )
        for ours, peer in pairs
    }
    (lc, lc_ratios), (li, li_ratios) = by_pair.items()
    result = (
        f"{'all complete, no errors' if complete else '**not all complete**'}; "
        f"{lc[0].split()[-1]} {lc_ratios} {lc[1].split()[-1]}'s aggregate rate, "
        f"{li[0].split()[-1]} {li_ratios} {li[1].split()[-1]}'s"
    )
    label = (
        f"{' / '.join(f'{n:,}' for n in counts)} concurrent async streams "
        f"({r['chunks']} deltas each; best of {r['rounds']} rounds)"
    )
    return Section(text, met, [label, result, "≥ 5x ChatOpenAI at 200, else ≥ 3x"])


def _concurrency_goal(streams: int, ours: str) -> float:
    """ChatKimi's 200 streams: 5x ChatOpenAI (issue 15); every other pair 3x."""
    return 5.0 if streams == 200 and ours == "langchain_kimi ChatKimi" else 3.0


def request_build_section(r: dict[str, Any]) -> Section:
    rows = [
        [
            f"{a} / {b}",
            f"{ma:.3f} ms",
            f"{mb:.3f} ms",
            f"{pair['ratio']:.1f}x",
        ]
        for pair in r["pairs"]
        for (a, b), (ma, mb) in [(pair["names"], pair["ms"])]
    ]
    text = (
        "### Building one request\n\n"
        f"The client-side cost of one agent turn's request with {r['tools']} bound tools and a "
        f"{r['turns']}-turn history, from the framework's messages and tools to the body handed "
        f"to the HTTP layer (no network); {r['rounds']} alternating rounds, the median round's "
        "cost per request, ratio = the median over rounds of the peer's cost / ours.\n\n"
        + table(["pair", "ours", "peer", "peer / ours"], rows)
        + f"\n\nGoal ours under {request_build.GOAL_MS:g} ms per request: {_ok(r['met'])}.\n"
    )
    result = ", ".join(
        f"{pair['names'][0]} {pair['ms'][0]:.2f} ms vs {pair['names'][1]} {pair['ms'][1]:.2f} ms"
        for pair in r["pairs"]
    )
    label = f"building a request ({r['tools']} tools, {r['turns']}-turn history)"
    return Section(text, r["met"], [label, result, f"under {request_build.GOAL_MS:g} ms"])


def agent_turn_section(r: dict[str, Any]) -> Section:
    rows = [
        [
            f"{x['names'][1]} / {x['names'][2]}",
            f"{x['turns']}",
            x["mode"],
            f"{x['ms'][0]:.3f} ms",
            f"{x['ms'][1]:.3f} ms ({x['ours_vs_floor']:.2f}x)",
            f"{x['ms'][2]:.3f} ms ({x['peer_vs_floor']:.2f}x)",
            f"≤ {x['goal']:g}x: {_ok(x['met'])}",
        ]
        for x in r["rows"]
    ]
    text = (
        "### An agent turn against the httpx floor\n\n"
        "One whole chat request with 20 bound tools and a history of 0 or 100 turns, over "
        "loopback to a minimal keep-alive server (its own process) that answers every request "
        "with the same tool call: `ChatKimi.bind_tools(...).invoke` / `Kimi.chat_with_tools` "
        "(and their async forms) against the floor, `json.dumps` + `httpx` POST + `json.loads` "
        "of the same body, and against langchain-openai `ChatOpenAI` / llama-index `OpenAILike`; "
        f"{r['rounds']} alternating rounds, the median round's time per turn, x = the median "
        "over rounds of the time / the floor's (issue 24).\n\n"
        + table(["ours / peer", "turns", "mode", "floor", "ours", "peer", "goal"], rows)
        + f"\n\nGoals (≤ 1.25x the floor at 0 turns, ≤ 1.5x at 100): {_ok(r['met'])}.\n"
    )

    def worst(adapter: str, turns: int) -> float:
        return max(
            x["ours_vs_floor"] for x in r["rows"] if x["adapter"] == adapter and x["turns"] == turns
        )

    result = (
        "; ".join(
            f"{name} {worst(adapter, 0):.2f}x at 0 turns, {worst(adapter, 100):.2f}x at 100"
            for adapter, name in (("LangChain", "ChatKimi"), ("LlamaIndex", "Kimi"))
        )
        + " (worse of sync and async)"
    )
    label = "an agent turn (20 tools, 0 / 100 turns) vs httpx POST + json"
    return Section(text, r["met"], [label, result, "≤ 1.25x / ≤ 1.5x the floor"])


def soak_section(r: dict[str, Any]) -> Section:
    met = soak.passed(r)
    by_status = ", ".join(f"{n:,} x {s}" for s, n in r["faults_by_status"].items())
    text = (
        "### Soak with injected faults\n\n"
        f"{r['requests']:,} streamed requests through `AsyncKimiClient`, {r['concurrency']} at a time, "
        f"with {r['fault_rate']:.0%} of requests answered by an injected fault (429 with Retry-After, "
        "500, 502 HTML, 503; seeded), `max_retries=6`. Each stream's text is compared with the "
        "scripted text (a lost or duplicated token would change it); the faults are counted as "
        "they arrived (the client's response hook: every answer that was not a 200), the "
        "retries by the emulator (requests received minus requests made).\n\n"
        + table(
            [
                "succeeded",
                "wrong text",
                "errors",
                "faults injected",
                "retries",
                "requests received",
                "wall",
            ],
            [
                [
                    f"{r['succeeded']:,}",
                    r["wrong_text"],
                    r["errors"],
                    f"{r['faults']:,} ({by_status})",
                    f"{r['retries']:,}",
                    f"{r['received_by_server']:,}",
                    f"{r['wall']:.1f} s",
                ]
            ],
        )
        + "\n\nGoal every request succeeds, no token lost or duplicated, each injected fault "
        f"retried once (retries = faults): {_ok(met)}"
        + (f" (other statuses: {r['other_statuses']})" if r["other_statuses"] else "")
        + ".\n"
    )
    label = f"soak: {r['requests']:,} streams, {r['fault_rate']:.0%} injected 429 / 500 / 502 / 503"
    result = (
        f"{r['succeeded']:,} succeeded with the exact text; {r['faults']:,} faults, "
        f"{r['retries']:,} retries"
    )
    return Section(text, met, [label, result, "all succeed, each fault retried once"])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    q = args.quick
    started = time.perf_counter()
    sections: list[Section] = []
    steps = [
        (
            "LangChain stream",
            lambda: stream_section(
                "Streaming: ChatKimi vs langchain-openai ChatOpenAI",
                "`ChatKimi.stream` vs langchain-openai `ChatOpenAI`",
                langchain_stream.measure(500 if q else 2000, 3 if q else 9),
                4,
            ),
        ),
        (
            "LlamaIndex stream",
            lambda: stream_section(
                "Streaming: Kimi vs llama-index OpenAILike",
                "`Kimi.stream_chat` vs llama-index `OpenAILike`",
                llama_index_stream.measure(500 if q else 2000, 3 if q else 9),
                6,
            ),
        ),
        (
            "transport",
            lambda: transport_section(transport.measure(1000 if q else 5000, 3 if q else 7)),
        ),
        ("imports", lambda: imports_section(imports.measure(2 if q else 7))),
        (
            "request build",
            lambda: request_build_section(request_build.measure(3 if q else 9, 50 if q else 200)),
        ),
        (
            "agent turn",
            lambda: agent_turn_section(agent_turn.measure(3 if q else 7, 20 if q else 100)),
        ),
        (
            "concurrency",
            lambda: concurrency_section(concurrency.measure([50, 100] if q else [200, 1000])),
        ),
        ("soak", lambda: soak_section(soak.measure(500 if q else 10_000, 50))),
    ]
    for name, step in steps:
        print(f"running: {name} ...", file=sys.stderr, flush=True)
        sections.append(step())
    elapsed = time.perf_counter() - started
    v = versions()
    when = datetime.datetime.now()
    head = (
        "# Benchmark results\n\n"
        f"Written by `make bench` (`python benchmarks/run_all.py{' --quick' if q else ''}`) on "
        f"{when.strftime('%Y-%m-%d %H:%M')}, in {elapsed / 60:.1f} min.\n\n"
        f"Machine: {machine()}.\n\n"
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".\n\n"
        "Every figure compares contenders in the same run against the same local emulator "
        "stream; the emulator is a protocol stand-in, so these measure the clients, not a "
        "model. Goals come from issues 4, 5, 7 and 15. One statistic throughout: a rate is "
        "the work of a contender's median round per second, a ratio the quotient of two "
        "rates printed beside it (concurrency: each contender's best round).\n\n"
        + table(
            ["benchmark", "goal"],
            [[name, _ok(s.met)] for (name, _), s in zip(steps, sections, strict=True)],
        )
        + "\n\n"
    )
    results = head + "\n".join(s.text for s in sections)
    print(results)
    if q:
        print("(--quick: neither RESULTS.md nor CONTRIBUTING.md was written)", file=sys.stderr)
        return 0
    RESULTS.write_text(results)
    write_readme_table(sections, v, when)
    return 0


def readme_table(sections: list[Section], v: dict[str, str], when: datetime.datetime) -> str:
    """CONTRIBUTING.md's performance table and the line that says when and with what."""
    peers = (
        "langchain-core",
        "llama-index-core",
        "langchain-openai",
        "llama-index-llms-openai-like",
    )
    return (
        table(["benchmark", "result", "goal"], [s.row for s in sections])
        + f"\n\nMeasured on {when.strftime('%Y-%m-%d')} (Python {v['python']}, "
        + ", ".join(f"{k} {v[k]}" for k in peers)
        + "); rates of each contender's median round, ratios their quotients (concurrency: "
        "best round). Figures on a loaded or different machine differ; the ratios come from "
        "the same run."
    )


def write_readme_table(sections: list[Section], v: dict[str, str], when: datetime.datetime) -> None:
    start, end = README_MARKS
    text = README.read_text(encoding="utf-8")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    body = readme_table(sections, v, when)
    README.write_text(f"{before}{start}\n{body}\n{end}{after}", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
