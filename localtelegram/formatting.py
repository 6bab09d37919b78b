"""Telegram text rules for the local Bot API: parse modes, UTF-16 lengths, image sizes."""

from __future__ import annotations

import re
import struct
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """Raised with Telegram's wording after "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    # Telegram measures lengths and entity offsets in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    # Telegram reports parse errors as UTF-8 byte offsets into the original string.
    return len(source[:index].encode("utf-8"))


class _Builder:
    """Accumulates plain text and entities while a marked-up string is parsed."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0  # UTF-16 units so far
        self.entities: list[Entity] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def close(self, kind: str, start: int, **extra: Any) -> None:
        length = self.length - start
        if length > 0:
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[Entity]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "code": "code", "pre": "pre",
    "a": "text_link", "blockquote": "blockquote", "tg-emoji": "custom_emoji", "span": "spoiler",
}
_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_ATTR_RE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_CHARREF_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


def _unescape_html(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int("0" + ref[1:], 0))  # "#x41" -> int("0x41", 0)
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        # Telegram only knows these four named entities and leaves others untouched.
        return _HTML_ENTITIES.get(ref, m.group(0))

    return _CHARREF_RE.sub(repl, text)


def parse_html(source: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    i = 0
    while i < len(source):
        lt = source.find("<", i)
        if lt < 0:
            out.add(_unescape_html(source[i:]))
            break
        out.add(_unescape_html(source[i:lt]))
        m = _TAG_RE.match(source, lt)
        if not m:
            # A bare "<" is the classic unescaped-user-input bug; Telegram refuses it.
            bad = re.match(r"</?([^\s>]*)", source[lt:])
            raise EntityParseError(
                f'Unsupported start tag "{bad.group(1) if bad else ""}" '
                f"at byte offset {_byte_offset(source, lt)}"
            )
        closing, name = m.group(1) == "/", m.group(2).lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported {"end" if closing else "start"} tag "{name}" '
                f"at byte offset {_byte_offset(source, lt)}"
            )
        if closing:
            if not stack or stack[-1][0] != name:
                expected = f'"</{stack[-1][0]}>"' if stack else "nothing"
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(source, lt)}, "
                    f'expected {expected}, found "</{name}>"'
                )
            tag, start, attrs = stack.pop()
            kind = _HTML_TAGS[tag]
            extra: dict[str, Any] = {}
            if tag == "a":
                extra["url"] = attrs.get("href", "")
            elif tag == "pre" and attrs.get("language"):
                extra["language"] = attrs["language"]
            elif tag == "blockquote" and "expandable" in attrs:
                kind = "expandable_blockquote"
            elif tag == "tg-emoji":
                extra["custom_emoji_id"] = attrs.get("emoji-id", "")
            elif tag == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-"):
                # <pre><code class="language-x"> sets the language of the enclosing pre.
                stack[-1][2]["language"] = attrs["class"][len("language-"):]
                i = m.end()
                continue
            out.close(kind, start, **extra)
        else:
            attrs = {
                a.group(1).lower(): (a.group(2) or "").strip("\"'")
                for a in _ATTR_RE.finditer(m.group(3) or "")
            }
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Unsupported start tag "span" at byte offset {_byte_offset(source, lt)}'
                )
            stack.append((name, out.length, attrs))
        i = m.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler",
}
_MDV2_TYPES = {
    "*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler",
}


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    open_marks: list[tuple[str, int, int]] = []  # (mark, utf16 start, source index)
    link_starts: list[tuple[int, int]] = []
    quote_start: int | None = None
    i, n = 0, len(source)
    at_line_start = True
    while i < n:
        c = source[i]
        if at_line_start and c == ">":
            if quote_start is None:
                quote_start = out.length
            i += 1
            at_line_start = False
            continue
        if at_line_start and quote_start is not None and c != ">":
            out.close("blockquote", quote_start)
            quote_start = None
        at_line_start = False
        if c == "\\":
            if i + 1 < n and 0 < ord(source[i + 1]) < 127:
                out.add(source[i + 1])
                i += 2
                continue
            raise EntityParseError("Character '\\' is reserved and must be escaped with the preceding '\\'")
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end < 0:
                raise EntityParseError(f"Can't find end of Pre entity at byte offset {_byte_offset(source, i)}")
            body = source[i + 3:end]
            language = ""
            if "\n" in body:
                first, rest = body.split("\n", 1)
                if first and " " not in first:
                    language, body = first, rest
            start = out.length
            out.add(re.sub(r"\\([`\\])", r"\1", body))
            out.close("pre", start, **({"language": language} if language else {}))
            i = end + 3
            continue
        if c == "`":
            end = i + 1
            while end < n and source[end] != "`":
                end += 2 if source[end] == "\\" else 1
            if end >= n:
                raise EntityParseError(f"Can't find end of Code entity at byte offset {_byte_offset(source, i)}")
            start = out.length
            out.add(re.sub(r"\\([`\\])", r"\1", source[i + 1:end]))
            out.close("code", start)
            i = end + 1
            continue
        mark = None
        if source.startswith("__", i):
            mark = "__"
        elif source.startswith("||", i):
            mark = "||"
        elif c in "*_~":
            mark = c
        if mark is not None:
            if open_marks and open_marks[-1][0] == mark:
                _, start, _ = open_marks.pop()
                out.close(_MDV2_TYPES[mark], start)
            elif any(m[0] == mark for m in open_marks):
                raise EntityParseError(
                    f"Can't find end of {_MDV2_NAMES[open_marks[-1][0]]} entity at byte offset "
                    f"{_byte_offset(source, open_marks[-1][2])}"
                )
            else:
                open_marks.append((mark, out.length, i))
            i += len(mark)
            continue
        if c == "[":
            link_starts.append((out.length, i))
            i += 1
            continue
        if c == "]" and link_starts:
            start, _ = link_starts.pop()
            if i + 1 < n and source[i + 1] == "(":
                end = i + 2
                while end < n and source[end] != ")":
                    end += 2 if source[end] == "\\" else 1
                if end >= n:
                    raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(source, i + 1)}")
                url = re.sub(r"\\([)\\])", r"\1", source[i + 2:end])
                out.close("text_link", start, url=url)
                i = end + 1
                continue
            raise EntityParseError("Character ']' is reserved and must be escaped with the preceding '\\'")
        if c in _MDV2_RESERVED:
            raise EntityParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        out.add(c)
        at_line_start = c == "\n"
        i += 1
    if open_marks:
        mark, _, idx = open_marks[-1]
        raise EntityParseError(f"Can't find end of {_MDV2_NAMES[mark]} entity at byte offset {_byte_offset(source, idx)}")
    if link_starts:
        raise EntityParseError(f"Can't find end of TextUrl entity at byte offset {_byte_offset(source, link_starts[-1][1])}")
    if quote_start is not None:
        out.close("blockquote", quote_start)
    return out.result()


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: only * _ ` ``` and [text](url), everything else is literal."""
    out = _Builder()
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n and source[i + 1] in "*_`[":
            out.add(source[i + 1])
            i += 2
            continue
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}")
            start = out.length
            out.add(source[i + 3:end])
            out.close("pre", start)
            i = end + 3
            continue
        if c in "*_`":
            end = source.find(c, i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}")
            start = out.length
            out.add(source[i + 1:end])
            out.close({"*": "bold", "_": "italic", "`": "code"}[c], start)
            i = end + 1
            continue
        if c == "[":
            m = re.match(r"\[([^\]]*)\]\(([^)]*)\)", source[i:])
            if not m:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}")
            start = out.length
            out.add(m.group(1))
            out.close("text_link", start, url=m.group(2))
            i += m.end()
            continue
        out.add(c)
        i += 1
    return out.result()


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    if mode:
        raise EntityParseError(f"Unsupported parse_mode {parse_mode}")
    return text, []


def auto_entities(text: str) -> list[Entity]:
    """Entities Telegram detects on its own in a user's plain message (commands, mentions, links)."""
    entities: list[Entity] = []
    for m in re.finditer(r"(?<![\w/])(/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?)|(@[A-Za-z0-9_]{5,32})|(https?://\S+)", text):
        kind = "bot_command" if m.group(1) else "mention" if m.group(2) else "url"
        entities.append({
            "type": kind,
            "offset": utf16_len(text[:m.start()]),
            "length": utf16_len(m.group(0)),
        })
    return entities


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image, read from its header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return w, h
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return int(w) & 0x3FFF, int(h) & 0x3FFF
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            seg_len = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return int(w), int(h)
            i += 2 + seg_len
    return None
