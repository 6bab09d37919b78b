"""`results/bench.json`, the plots, the table the README shows and the one line of ratios."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend is chosen first

OURS, RASA_TELEGRAM, REST = "ours", "rasa_telegram", "rasa_rest"
LABELS = {OURS: "Sportello\n(bot → Rasa → azioni)", RASA_TELEGRAM: "Rasa,\nconnettore Telegram", REST: "Rasa REST"}
GATE_LEVEL = "50"
TELEGRAM_RATE = 30  # messages a second that Telegram lets a bot send overall


def gate_level(results: dict[str, Any]) -> str:
    """50 chats at once, or the nearest level measured when the run was made smaller."""
    levels = results["turns"]["bursts"]
    return GATE_LEVEL if GATE_LEVEL in levels else min(levels, key=lambda x: abs(int(x) - int(GATE_LEVEL)))


def telegram_floor_s(burst: dict[str, Any], share: float = 1.0) -> float:
    """The soonest Telegram's 30 messages a second let `share` of the burst's chats have their
    whole answer: the turn needs as many messages as the fewer of our bot's and of Rasa's own
    answer (a bot sending more than it needs must not lower its own bar)."""
    ours, rest = burst[OURS], burst[REST]
    per_chat = min(ours["messages"], rest["messages"]) / ours["n"]
    return math.ceil(share * ours["n"]) * per_chat / TELEGRAM_RATE


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """The figures the issue asks for, each from the same run. At 50 chats the bar is bare Rasa
    REST's p95, or Telegram's floor where it binds: max(REST p95, floor for 95% of the chats)."""
    seq = results["turns"]["sequential"]
    burst = results["turns"]["bursts"][gate_level(results)]
    ours, rest, rasa_tg = burst[OURS], burst[REST], burst[RASA_TELEGRAM]
    bar_p95_ms = max(rest["p95_ms"], telegram_floor_s(burst, 0.95) * 1000)
    bar_last_s = max(rest["last_reply_s"], telegram_floor_s(burst))
    return {
        "turn_p95_ratio": round(seq[OURS]["p95_ms"] / seq[REST]["p95_ms"], 3),
        "burst_ratio": round(ours["p95_ms"] / bar_p95_ms, 3),
        "burst_last_ratio": round(ours["last_reply_s"] / bar_last_s, 3),
        "vs_rasa_telegram": round(ours["p95_ms"] / rasa_tg["p95_ms"], 3),
        "vs_rasa_telegram_sequential": round(seq[OURS]["p95_ms"] / seq[RASA_TELEGRAM]["p95_ms"], 3),
        "fanout_ratio": results["fanout"]["fanout_ratio"],
        "memory_share": results["memory"]["after"]["share_of_rasa"],
        **({"replicas_2_vs_1": results["replicas"]["speedup_2_vs_1"]}
           if "speedup_2_vs_1" in (results.get("replicas") or {}) else {}),
    }


def _strip_raw(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip_raw(v) for k, v in data.items() if not k.startswith("raw")}
    return data


def write(results: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench.json"
    path.write_text(json.dumps(_strip_raw(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_latency(results, out / "bench-latency.png")
    plot_concurrency(results, out / "bench-concurrency.png")
    plot_fanout(results, out / "bench-fanout.png")
    return path


def plot_latency(results: dict[str, Any], path: Path) -> None:
    names = [OURS, RASA_TELEGRAM, REST]
    seq = results["turns"]["raw_sequential"]
    level = gate_level(results)
    burst = results["turns"]["bursts"][level]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    axes[0].boxplot([[v * 1000 for v in seq[n]] for n in names], showfliers=True)
    axes[0].set_title("Turni uno alla volta")
    axes[1].boxplot([[v * 1000 for v in burst[n]["raw"]] for n in names], showfliers=True)
    axes[1].set_title(f"{level} chat che scrivono insieme")
    for axis in axes:
        axis.set_xticks([1, 2, 3], [LABELS[n] for n in names], fontsize=8)
        axis.set_ylabel("ms fino all'ultima risposta del turno")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_concurrency(results: dict[str, Any], path: Path) -> None:
    bursts = results["turns"]["bursts"]
    levels = sorted(bursts, key=int)
    fig, axis = plt.subplots(figsize=(7, 4.2))
    for name in (OURS, RASA_TELEGRAM, REST):
        axis.plot([int(x) for x in levels], [bursts[x][name]["p95_ms"] for x in levels], marker="o", label=LABELS[name])
    axis.plot([int(x) for x in levels], [telegram_floor_s(bursts[x]) * 1000 for x in levels],
              linestyle=":", color="grey", label="limite di Telegram (30 msg/s)")
    axis.set_xlabel("chat che scrivono insieme")
    axis.set_ylabel("p95, ms")
    axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_fanout(results: dict[str, Any], path: Path) -> None:
    per_second = results["fanout"]["per_second"]
    fig, axis = plt.subplots(figsize=(9, 3.6))
    axis.plot(range(len(per_second)), per_second, linewidth=0.8)
    axis.axhline(30, color="red", linestyle="--", linewidth=0.8, label="30 msg/s")
    axis.set_xlabel("secondi dall'inizio")
    axis.set_ylabel("messaggi al secondo")
    axis.set_title(f"{results['fanout']['notifications']} avvisi")
    axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(results: dict[str, Any]) -> str:
    """Markdown for the README."""
    seq = results["turns"]["sequential"]
    rows = ["| misura | Sportello | Rasa Telegram | Rasa REST |", "|---|---|---|---|"]
    rows.append("| turni in sequenza, p50 / p95 (ms) | " + " | ".join(
        f"{seq[n]['p50_ms']:.0f} / {seq[n]['p95_ms']:.0f}" for n in (OURS, RASA_TELEGRAM, REST)) + " |")
    for level, burst in sorted(results["turns"]["bursts"].items(), key=lambda kv: int(kv[0])):
        rows.append(f"| {level} chat insieme, p95 / ultima risposta (s) | " + " | ".join(
            f"{burst[n]['p95_ms'] / 1000:.2f} / {burst[n]['last_reply_s']:.2f}" for n in (OURS, RASA_TELEGRAM, REST))
            + " |")
    fan = results["fanout"]
    memory = results["memory"]["after"]
    rows.append(f"| {fan['notifications']} avvisi | {fan['seconds']:.0f} s (Telegram ne consente "
                f"{fan['telegram_allows_s']:.0f}), picco {fan['busiest_second']}/s, persi {fan['lost']}, "
                f"doppi {fan['doubled']} | | |")
    for measure in ("pss", "rss"):
        m = memory[measure]
        rows.append(f"| memoria dopo le prove, {measure.upper()} (MB) | bot {m['bot']:.0f} + azioni {m['actions']:.0f} + "
                    f"back office {m['backoffice']:.0f} = {m['ours']:.0f} | Rasa {m['rasa']:.0f} | |")
    if results.get("training_seconds") is not None:
        rows.append(f"| addestramento del modello | {results['training_seconds']:.0f} s | | |")
    replicas = results.get("replicas") or {}
    for count in sorted((k for k in replicas if k.isdigit()), key=int):
        r = replicas[count]
        rows.append(f"| topologia di produzione, {count} {'replica' if count == '1' else 'repliche'}: "
                    f"turni al secondo ({r['chats']} chat) | {r['turns_per_s']:.1f} | | |")
    return "\n".join(rows)


def ratio_line(values: dict[str, float]) -> str:
    return " ".join(f"{key}={value}" for key, value in values.items())
