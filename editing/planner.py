"""The embedded planner: a small grammar of edit instructions, with MiniLM for unfamiliar words.

It reads instructions such as "remove the smaller red circle on the left", "make all blue squares
green", "move the star left of the square up a little", "replace the one opposite the blue
square with a heart", "add a yellow star in the top right", "make the background pale blue",
"increase the contrast", and returns an ``EditPlan`` whose ``TargetQuery`` holds colour, shape,
size rank, position, ordinal, count and relation. Where no rule names the edit, the offline
MiniLM encoder maps the instruction onto the closest category by example sentences, and an
unknown noun onto the closest shape name; both only above a similarity floor, so gibberish is
an error rather than a guess.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from .plan import EditPlan, PlanError, Relation, TargetQuery, is_color

SHAPE_WORDS = {
    "circle": "circle", "dot": "circle", "disc": "circle", "disk": "circle", "ball": "circle", "round": "circle",
    "square": "square", "box": "square", "rectangle": "square", "block": "square",
    "triangle": "triangle", "star": "star", "hexagon": "hexagon", "hex": "hexagon",
    "diamond": "diamond", "rhombus": "diamond", "lozenge": "diamond", "heart": "heart",
}
ANY_OBJECT = {"shape", "object", "one", "thing", "item", "figure", "element"}
NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "both": 2}
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5}
SIZE_WORDS = {
    "small": "smaller", "smaller": "smaller", "little": "smaller", "tiny": "smaller", "smallest": "smallest",
    "big": "larger", "bigger": "larger", "large": "larger", "larger": "larger", "huge": "larger",
    "biggest": "largest", "largest": "largest",
}
EXTREMES = {"leftmost": "left", "rightmost": "right", "topmost": "top", "uppermost": "top", "highest": "top",
            "bottommost": "bottom", "lowest": "bottom", "lowermost": "bottom"}
SIDES = ("top left", "top right", "bottom left", "bottom right", "left", "right", "top", "bottom", "upper", "lower",
         "middle", "centre", "center")
SIDE_NAMES = {"upper": "top", "lower": "bottom", "middle": "centre", "center": "centre"}
RELATION_WORDS = (
    ("to the left of", "left of"), ("on the left of", "left of"), ("left of", "left of"),
    ("to the right of", "right of"), ("on the right of", "right of"), ("right of", "right of"),
    ("on top of", "above"), ("above", "above"), ("over", "above"),
    ("underneath", "below"), ("beneath", "below"), ("below", "below"), ("under", "below"),
    ("next to", "next to"), ("beside", "next to"), ("near", "next to"), ("by", "next to"),
    ("opposite to", "opposite"), ("opposite from", "opposite"), ("opposite", "opposite"), ("across from", "opposite"),
    ("mirroring", "opposite"),
)
ADJUSTMENT_WORDS = (
    (r"\b(brighter|brighten|lighter|lighten|more light)\b", "brighten"),
    (r"\b(darker|darken|dimmer|dim)\b", "darken"),
    (r"\b(increase|boost|more|raise|higher)\b.*\bcontrast\b|\bcontrast\b.*\b(up|higher|more)\b", "more contrast"),
    (r"\b(decrease|reduce|less|lower)\b.*\bcontrast\b", "less contrast"),
    (r"\b(gr[ae]yscale|black and white|monochrome|black-and-white)\b", "grayscale"),
    (r"\b(desaturate|less saturated|muted|washed out)\b", "desaturate"),
    (r"\b(saturate|more saturated|more vivid|more colou?rful|vivid|vibrant)\b", "saturate"),
    (r"\b(warmer|warm up|warm)\b", "warm"),
    (r"\b(cooler|cool down|colder|cool)\b", "cool"),
    (r"\b(invert|negative)\b", "invert"),
)
MOVE_DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0),
                   "upward": (0.0, -1.0), "downward": (0.0, 1.0), "upwards": (0.0, -1.0), "downwards": (0.0, 1.0)}
CATEGORY_VERBS = {  # verbs the encoder compares an unknown first word with
    "remove": ["remove", "delete", "erase", "eliminate", "destroy", "discard"],
    "recolor": ["recolor", "paint", "tint", "dye", "colorize"],
    "replace": ["replace", "swap", "substitute", "exchange"],
    "add": ["add", "insert", "put", "place", "draw"],
    "move": ["move", "shift", "slide", "drag", "relocate"],
    "resize": ["resize", "enlarge", "shrink", "scale", "magnify"],
}
CATEGORY_FLOOR = 0.45  # cosine below which an instruction is not understood
NOUN_FLOOR = 0.6


SHADES = ("light", "dark", "pale", "medium", "deep")


def _colors_in(text: str) -> list[tuple[int, int, str]]:
    """(start, end, CSS name) of the colour words in ``text``: "red", "light blue", "#ff8800"."""
    found, tokens, index = [], list(re.finditer(r"#[0-9a-f]{6}\b|[a-z]+", text)), 0
    while index < len(tokens):
        word = tokens[index].group(0)
        if word in SHADES and index + 1 < len(tokens):
            following = tokens[index + 1].group(0)
            names = [word + following] + (["light" + following] if word == "pale" else [])
            name = next((name for name in names if is_color(name)), None)
            if name is not None:
                found.append((tokens[index].start(), tokens[index + 1].end(), name))
                index += 2
                continue
        if word.startswith("#") or is_color(word):
            found.append((tokens[index].start(), tokens[index].end(), word))
        index += 1
    return found


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("xes", "ches", "shes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


class EmbeddedPlanner:
    """Instruction -> ``EditPlan`` with no model download (see the module docstring).

    ``text_encoder``: "minilm" (default, the offline encoder from site-packages) for the fallback
    on unfamiliar wording, or None to use the grammar alone.
    """

    def __init__(self, text_encoder: str | None = "minilm") -> None:
        self.text_encoder_name = text_encoder

    @cached_property
    def _encoder(self):
        from generators import load_text_encoder

        return load_text_encoder(self.text_encoder_name)

    def _nearest(self, text: str, options: dict[str, list[str]]) -> tuple[str, float]:
        import torch

        names = [name for name, examples in options.items() for _ in examples]
        examples = [example for examples in options.values() for example in examples]
        with torch.no_grad():
            pooled = self._encoder.encode([text, *examples]).pooled
        similarity = pooled[1:] @ pooled[0]
        best = int(similarity.argmax())
        return names[best], float(similarity[best])

    # -- the grammar -------------------------------------------------------------------------

    def plan(self, instruction: str, image: Any = None) -> EditPlan:
        """The plan of one instruction (``image`` is not needed by the grammar)."""
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"instruction must be a non-empty string, got {instruction!r}")
        text = re.sub(r"[^a-z0-9#%.\- ]+", " ", instruction.lower().replace("colour", "color").replace("grey", "gray"))
        text = re.sub(r"\s+", " ", re.sub(r"\.(?!\d)", " ", text)).strip()
        text = re.sub(r"^(please |can you |could you |i want you to |i'd like you to |now )+", "", text)
        for rule in self._rules():
            plan = rule(text, instruction)
            if plan is not None:
                return plan
        return self._fallback(text, instruction)

    def _rules(self) -> tuple:
        """The grammar's rules, most specific first; the first that reads an instruction plans it."""
        return (self._background, self._global, self._restyle, self._replace, self._add, self._resize, self._move, self._recolor,
                self._remove)

    def _background(self, text: str, instruction: str) -> EditPlan | None:
        if not re.search(r"\b(background|backdrop|backcloth)\b", text):
            return None
        if re.search(r"\b(remove|delete|erase|clear)\b.*\b(background|backdrop)\b", text):
            color = "white"
        else:
            colors = [name for _, _, name in _colors_in(text)]
            if not colors:
                return None
            color = colors[-1]
        return EditPlan("background", None, prompt=f"the subject on a plain {color} background", color=color,
                        rationale=f"'{instruction}' changes only the background, to {color}; every object stays as it is")

    def _global(self, text: str, instruction: str) -> EditPlan | None:
        for pattern, adjustment in ADJUSTMENT_WORDS:
            if re.search(pattern, text):
                target = self._target_after_verb(text)
                if target is not None and target.noun is not None:
                    return EditPlan("recolor", target, prompt=f"{target.description}, {adjustment}", adjustment=adjustment,
                                    rationale=f"'{instruction}' adjusts only {target.description}: {adjustment}")
                return EditPlan("global", None, prompt=adjustment, adjustment=adjustment,
                                rationale=f"'{instruction}' names no object, so the whole image gets: {adjustment}")
        return None

    def _restyle(self, text: str, instruction: str) -> EditPlan | None:
        """A whole-image change that is not a tone operation ("make it look like winter"): only an
        instruction editor (diffusion) can do it; the embedded executors leave the image as it is."""
        whole = r"(?:it|this|everything|the (?:whole |entire )?(?:image|picture|photo|scene|drawing))"
        match = (re.match(rf"^(?:make|render|turn) {whole} (?:look )?like (?P<style>.+)$", text)
                 or re.match(rf"^(?:turn|change|transform|convert) {whole} (?:into|to) (?P<style>.+)$", text)
                 or re.match(r"^(?:make it |render it |redo it |paint it |draw it )?in the style of (?P<style>.+)$", text))
        if match is None:
            return None
        style = match.group("style")
        return EditPlan("global", None, prompt=style,
                        rationale=f"'{instruction}' changes the whole image to {style}, which is not a tone or colour operation")

    def _replace(self, text: str, instruction: str) -> EditPlan | None:
        match = (re.match(r"^(?:replace|swap|substitute|exchange) (?P<target>.+?) (?:with|for|by) (?P<asset>.+)$", text)
                 or re.match(r"^(?:turn|change|transform|convert|make) (?P<target>.+?) (?:into|to) (?P<asset>.+)$", text))
        if match is None:
            return None
        asset = self._query(match.group("asset"))
        if asset.noun is None:  # "turn the circle into blue" is a recolor
            return None
        target = self._query(match.group("target"))
        return EditPlan("replace", target, prompt=asset.description, asset=asset.description,
                        spatial_relation=_relation_text(target),
                        rationale=f"'{instruction}': {target.description} is replaced by {asset.description}")

    def _add(self, text: str, instruction: str) -> EditPlan | None:
        match = re.match(r"^(?:add|put|place|insert|draw|include) (?P<rest>.+)$", text)
        if match is None:
            return None
        target = self._query(match.group("rest"))
        if target.noun is None:
            return None
        asset = " ".join(word for word in (target.color, target.noun) if word)
        return EditPlan("add", target, prompt=asset, asset=asset, spatial_relation=_relation_text(target),
                        rationale=f"'{instruction}' adds {asset}" + (f", placed {_where(target)}" if _where(target) else ""))

    def _resize(self, text: str, instruction: str) -> EditPlan | None:
        match = re.match(r"^(?P<verb>make|scale|resize|enlarge|shrink|grow|double|halve|increase|reduce)"
                         r"(?: the size of| size of)? (?P<target>.+?)(?P<how>(?: (?:much|slightly|a bit|a little))? (?:bigger|larger|smaller|tinier)"
                         r"| twice as (?:big|large)| half as big| half the size| (?:to|by) (?:a factor of )?\d+(?:\.\d+)?(?: ?%|x| times)?)?$", text)
        if match is None:
            return None
        verb, how = match.group("verb"), (match.group("how") or "").strip()
        percent = re.search(r"(\d+(?:\.\d+)?) ?%", how)
        number = re.search(r"(\d+(?:\.\d+)?)", how)
        if verb == "double" or how.startswith("twice"):
            scale = 2.0
        elif verb == "halve" or how.startswith("half"):
            scale = 0.5
        elif percent:
            scale = float(percent.group(1)) / 100
        elif number:
            scale = float(number.group(1))
        elif re.search(r"(bigger|larger)$", how) or (verb in ("enlarge", "grow") and not how):
            scale = 2.0 if how.startswith("much") else 1.2 if re.match(r"(slightly|a bit|a little)", how) else 1.5
        elif re.search(r"(smaller|tinier)$", how) or (verb == "shrink" and not how):
            scale = 0.5 if how.startswith("much") else 0.8 if re.match(r"(slightly|a bit|a little)", how) else 2 / 3
        else:
            return None  # "make the circle blue" is not a resize
        target = self._query(match.group("target"))
        return EditPlan("resize", target, prompt=target.description, scale=round(scale, 4), spatial_relation=_relation_text(target),
                        rationale=f"'{instruction}': {target.description} is scaled by {scale:.2f} about its centre")

    def _move(self, text: str, instruction: str) -> EditPlan | None:
        match = re.match(r"^(?:move|shift|slide|drag|push|nudge|relocate) (?P<target>.+) (?P<direction>left|right|up|down|upwards?|downwards?)"
                         r"(?P<amount>(?: by \d+(?:\.\d+)? ?%| a little| slightly| a bit| a touch| far| a lot)*)$", text)
        if match is None:
            return None
        amount = match.group("amount") + " " + text[: match.start("direction")]
        distance = 0.2
        if re.search(r"\b(a little|slightly|a bit|a touch|nudge)\b", amount + text[:6]):
            distance = 0.1
        elif re.search(r"\b(far|a lot|much)\b", amount):
            distance = 0.35
        percent = re.search(r"(\d+(?:\.\d+)?)\s?%", amount)
        if percent:
            distance = float(percent.group(1)) / 100
        dx, dy = MOVE_DIRECTIONS[match.group("direction")]
        phrase = re.sub(r"\b(a little|slightly|a bit|a touch|far|a lot)\b", "", match.group("target"))
        phrase = re.sub(r" (to the|to|towards the|towards|toward the|toward|over to the)$", "", re.sub(r"\s+", " ", phrase).strip())
        target = self._query(phrase)
        offset = (round(dx * distance, 4), round(dy * distance, 4))
        return EditPlan("move", target, prompt=target.description, offset=offset, spatial_relation=_relation_text(target),
                        rationale=f"'{instruction}': {target.description} moves {match.group('direction')} by "
                                  f"{distance:.0%} of the image; the hole it leaves is filled")

    def _recolor(self, text: str, instruction: str) -> EditPlan | None:
        match = (re.match(r"^change the color of (?P<rest>.+)$", text)
                 or re.match(r"^(?:make|turn|paint|color|recolor|tint|dye|change|set) (?P<rest>.+)$", text))
        if match is None:
            return None
        rest = match.group("rest")
        colors = _colors_in(rest)
        if not colors or colors[-1][1] != len(rest):  # the new colour closes the instruction
            return None
        start, _, color = colors[-1]
        phrase = re.sub(r" (to|into|in)$", "", rest[:start].strip())
        if not phrase:
            return None
        target = self._query(phrase)
        return EditPlan("recolor", target, prompt=f"{color} {target.noun or 'object'}", color=color,
                        spatial_relation=_relation_text(target),
                        rationale=f"'{instruction}': {target.description} becomes {color}, keeping its shading")

    def _remove(self, text: str, instruction: str) -> EditPlan | None:
        match = re.match(r"^(?:remove|delete|erase|eliminate|get rid of|take out|take away|clear|cut out|drop|hide) (?P<target>.+)$", text)
        if match is None:
            return None
        target = self._query(match.group("target"))
        return EditPlan("remove", target, prompt="the background behind it", spatial_relation=_relation_text(target),
                        rationale=f"'{instruction}': {target.description} is removed and the background filled in")

    def _fallback(self, text: str, instruction: str) -> EditPlan:
        if self.text_encoder_name is None:
            raise PlanError([f"$: no rule understands {instruction!r} (and the MiniLM fallback is off)"])
        words = text.split()
        category, similarity = self._nearest(words[0], CATEGORY_VERBS)
        if similarity < CATEGORY_FLOOR:
            raise PlanError([f"$: {instruction!r} does not read as an edit (closest: {category}, similarity {similarity:.2f})"])
        # re-read the instruction with the verb the encoder recognised
        canonical = {"remove": "remove", "recolor": "make", "replace": "replace", "add": "add", "move": "move", "resize": "resize"}[category]
        rewritten = f"{canonical} {' '.join(words[1:])}"
        for rule in self._rules():
            plan = rule(rewritten, instruction)
            if plan is not None and plan.category == category:
                return plan.replace(rationale=plan.rationale + f" (the verb {words[0]!r} read as {category}, similarity {similarity:.2f})")
        raise PlanError([f"$: {instruction!r} reads as a {category} edit (similarity {similarity:.2f}) but its target is unclear"])

    # -- target phrases ----------------------------------------------------------------------

    def _target_after_verb(self, text: str) -> TargetQuery | None:
        match = re.match(r"^(?:make|turn|adjust|change|brighten|darken|saturate|desaturate|invert|warm up|cool down) (?P<rest>.+)$", text)
        if match is None:
            return None
        rest = re.sub(r"\b(brighter|darker|lighter|dimmer|more|less|saturated|vivid|warmer|cooler|gr[ae]yscale|contrast|black and white|a bit|slightly)\b", " ", match.group("rest"))
        rest = re.sub(r"\s+", " ", rest).strip()
        if not rest or re.fullmatch(r"(the )?(whole |entire )?(image|picture|photo|scene|everything|it)", rest):
            return None
        query = self._query(rest)
        return query if query.noun is not None else None

    def _query(self, phrase: str) -> TargetQuery:
        """Attributes of a noun phrase such as "the second red circle from the left"."""
        description = phrase.strip()
        text = f" {description} "
        relation = None
        for words, kind in RELATION_WORDS:
            match = re.search(rf" (?:that is |which is |that's )?{words} (?P<anchor>.+)$", text)
            if match and (words != "by" or not re.search(r" by \d", text)):
                anchor = self._query(match.group("anchor"))
                relation = Relation(kind=kind, anchor=anchor)
                text = text[: match.start()] + " "
                break
        quantity: str | int = "one"
        if re.search(r" (all|every|each)( the| of the)? ", text):
            quantity = "all"
        for word, count in NUMBERS.items():
            if re.search(rf" {word} ", text):
                quantity = count
        digits = re.search(r" (\d+) (?=[a-z])", text)
        if digits:
            quantity = int(digits.group(1))
        position, ordinal = None, None
        counted = re.search(r" (?P<ordinal>first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)(?P<middle>.*?) from the (?P<side>left|right|top|bottom) ", text)
        if counted:
            side = counted.group("side")
            if counted.group("ordinal") == "last":
                side = {"left": "right", "right": "left", "top": "bottom", "bottom": "top"}[side]
                ordinal = 1
            else:
                ordinal = ORDINALS[counted.group("ordinal")]
            position = side
            text = text[: counted.start()] + " " + counted.group("middle") + " "
        else:
            for word, side in EXTREMES.items():
                if f" {word} " in text:
                    position = side
                    text = text.replace(f" {word} ", " ")
            side_pattern = "|".join(SIDES)
            located = re.search(rf" (?:on|at|in|near|towards?)(?: the)? (?P<side>{side_pattern})(?: side| corner| half| part| edge)?(?: of the (?:image|picture|canvas|scene))? ", text)
            if located:
                position = SIDE_NAMES.get(located.group("side"), located.group("side"))
                text = text[: located.start()] + " " + text[located.end():]
            else:
                adjective = re.search(rf" (?P<side>{side_pattern}) (?=[a-z])", text)
                if adjective:
                    position = SIDE_NAMES.get(adjective.group("side"), adjective.group("side"))
                    text = text.replace(adjective.group(0), " ", 1)
            first = re.search(r" (first|second|third|1st|2nd|3rd) ", text)
            if first and position is None:
                ordinal, position = ORDINALS[first.group(1)], "left"
        size = None
        for word, rank in SIZE_WORDS.items():
            if re.search(rf" {word} ", text):
                size = rank
        colors = _colors_in(text)
        color = colors[0][2] if colors else None
        for start, end, _ in reversed(colors):
            text = text[:start] + " " + text[end:]
        noun = None
        words = [w for w in re.findall(r"[a-z]+", text)
                 if w not in {"the", "a", "an", "all", "every", "each", "of", "one", "ones", "that", "which", "is", "are", "and", "both",
                              "this", "these", "those", "shape", "shapes", "object", "objects", "thing", "things", *NUMBERS, *SIZE_WORDS,
                              "new", "another", "other", "colored", "side", "corner", "image", "picture", "some", "it", "them", "same"}]
        if words:
            noun = self._noun(_singular(words[-1]))
        if any(w in ANY_OBJECT for w in re.findall(r"[a-z]+", text)) and not words:
            noun = None
        return TargetQuery(description=description, noun=noun, color=color, size=size, position=position, ordinal=ordinal,
                           quantity=quantity, relation=relation)

    def _noun(self, word: str) -> str | None:
        if word in SHAPE_WORDS:
            return SHAPE_WORDS[word]
        if word in ANY_OBJECT:
            return None
        if self.text_encoder_name is not None and word.isalpha():
            shape, similarity = self._nearest(word, {name: [name] for name in sorted(set(SHAPE_WORDS.values()))})
            if similarity >= NOUN_FLOOR:
                return shape
        return word


def _relation_text(target: TargetQuery) -> str | None:
    if target.relation is None:
        return None
    return f"{target.relation.kind} {target.relation.anchor.description}"


def _where(target: TargetQuery) -> str | None:
    if target.relation is not None:
        return _relation_text(target)
    if target.position is not None:
        return f"in the {target.position}"
    return None
