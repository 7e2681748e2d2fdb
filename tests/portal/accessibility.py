"""What a screen reader or a keyboard needs from a rendered page (WCAG 2.1 AA), checked on
the HTML the server sends: each function of `page_problems` names what fails and where, so a
new page (or a changed one) without labels, alt texts or header scopes fails its test.

What HTML cannot show (contrast, what scripts do, reading order of CSS) is not checked here.
"""

from __future__ import annotations

from collections import Counter

from lxml import html as lxml_html
from lxml.html import HtmlElement

# Controls a user fills in or chooses; buttons are named by their text instead.
UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def parse(page: str | bytes) -> HtmlElement:
    return lxml_html.document_fromstring(page)


def text_of(element: HtmlElement, root: HtmlElement) -> str:
    """The accessible name an element's content gives it (text and images' alt texts, not
    what is aria-hidden), roughly as browsers compute it."""
    if element.get("aria-hidden") == "true":
        return ""
    if element.get("aria-label", "").strip():
        return str(element.get("aria-label")).strip()
    if element.get("aria-labelledby"):
        return " ".join(
            text_of(found, root)
            for ref in str(element.get("aria-labelledby")).split()
            if (found := root.get_element_by_id(ref, None)) is not None
        ).strip()
    parts = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):  # a comment
            parts.append(child.tail or "")
            continue
        if child.tag == "img":
            parts.append(child.get("alt", ""))
        elif child.tag == "input" and child.get("type") in ("submit", "button"):
            parts.append(child.get("value", ""))
        elif child.tag not in ("input", "select", "textarea", "script", "style"):
            parts.append(text_of(child, root))
        parts.append(child.tail or "")
    return " ".join(" ".join(parts).split())


def where(element: HtmlElement) -> str:
    """`<input name="copies" id="id_copies">`: enough to find the element in the page."""
    shown = " ".join(
        f'{name}="{element.get(name)}"'
        for name in ("id", "name", "type", "href", "src", "class")
        if element.get(name) is not None
    )
    return f"<{element.tag}{' ' + shown if shown else ''}>"


def language_problems(root: HtmlElement, language: str) -> list[str]:
    found = root.get("lang", "")
    if found != language:
        return [f'<html lang="{found}">: the page is in "{language}"']
    return []


def skip_link_problems(root: HtmlElement) -> list[str]:
    links = root.xpath("//body//a[@href]")
    if not links or links[0].get("href") != "#main":
        return ['the first link is not a skip link to "#main"']
    if root.get_element_by_id("main", None) is None:
        return ['the skip link goes to "#main", which is not on the page']
    return []


def id_problems(root: HtmlElement) -> list[str]:
    counts = Counter(str(element.get("id")) for element in root.xpath("//*[@id]"))
    problems = [f'id "{name}" is used {count} times' for name, count in counts.items() if count > 1]
    for attribute in ("aria-describedby", "aria-labelledby", "aria-controls"):
        for element in root.xpath(f"//*[@{attribute}]"):
            for ref in str(element.get(attribute)).split():
                if ref not in counts:
                    problems.append(f'{where(element)}: {attribute} names "{ref}", not on the page')
    for label in root.xpath("//label[@for]"):
        if label.get("for") not in counts:
            problems.append(f'<label for="{label.get("for")}">: no element has that id')
    return problems


def controls(root: HtmlElement) -> list[HtmlElement]:
    return [
        element
        for element in root.xpath("//input | //select | //textarea")
        if element.tag != "input" or element.get("type", "text") not in UNLABELLED_INPUT_TYPES
    ]


def label_of(control: HtmlElement, root: HtmlElement) -> str:
    """A control's name from aria-label(ledby), its <label for>, or the <label> around it; a
    placeholder or title is no label (it goes when one types, or shows only on hover)."""
    if control.get("aria-label", "").strip() or control.get("aria-labelledby"):
        return text_of(control, root)
    control_id = control.get("id")
    labels = list(control.iterancestors("label"))
    if control_id:
        # A <label for> around its control (as Django draws tick boxes) counts once.
        labels += [
            label for label in root.xpath("//label[@for=$id]", id=control_id) if label not in labels
        ]
    return " ".join(name for label in labels if (name := text_of(label, root)))


def label_problems(root: HtmlElement) -> list[str]:
    problems = []
    for control in controls(root):
        label = label_of(control, root)
        words = label.split()
        if not label:
            problems.append(f"{where(control)} has no label")
        elif len(words) % 2 == 0 and words[: len(words) // 2] == words[len(words) // 2 :]:
            problems.append(f"{where(control)} is labelled {label!r}: the same words twice")
    return problems


def name_problems(root: HtmlElement) -> list[str]:
    """Buttons and links say what they do, also when they are only an icon."""
    problems = []
    for element in root.xpath("//button | //a[@href] | //input[@type='submit']"):
        if element.tag == "input":
            named = bool(element.get("value", "").strip() or element.get("aria-label"))
        else:
            named = bool(text_of(element, root))
        if not named:
            problems.append(f"{where(element)} has no accessible name")
    return problems


def ambiguity_problems(root: HtmlElement) -> list[str]:
    """Buttons of one name send different forms (a "Cancel" on each row of a table): a
    screen reader's list of buttons cannot tell them apart. Name the object too."""
    actions: dict[str, set[str]] = {}
    for button in root.xpath("//form//button | //form//input[@type='submit']"):
        name = button.get("value", "") if button.tag == "input" else text_of(button, root)
        form = next(button.iterancestors("form"))
        actions.setdefault(name, set()).add(str(form.get("action", "")))
    return [
        f"{len(sent)} buttons named {name!r} send different forms"
        for name, sent in actions.items()
        if len(sent) > 1
    ]


def image_problems(root: HtmlElement) -> list[str]:
    problems = []
    for image in root.xpath("//img"):
        if image.get("alt") is None:
            problems.append(f'{where(image)} has no alt text (alt="" if it is decorative)')
    for svg in root.xpath("//svg"):
        if svg.get("aria-hidden") != "true" and not (
            svg.get("role") == "img" and svg.get("aria-label", "").strip()
        ):
            problems.append(f"{where(svg)}: neither named (role=img, aria-label) nor hidden")
    return problems


def heading_problems(root: HtmlElement) -> list[str]:
    headings = root.xpath("//h1 | //h2 | //h3 | //h4 | //h5 | //h6")
    problems = []
    if [h.tag for h in headings].count("h1") != 1:
        problems.append(f"{[h.tag for h in headings].count('h1')} <h1> on the page, not one")
    level = 0
    for heading in headings:
        this = HEADINGS.index(heading.tag) + 1
        if this > level + 1:
            problems.append(f"<{heading.tag}> {text_of(heading, root)!r} follows <h{level}>")
        if not text_of(heading, root):
            problems.append(f"<{heading.tag}> is empty")
        level = this
    return problems


def table_problems(root: HtmlElement) -> list[str]:
    problems = []
    for table in root.xpath("//table"):
        if not table.xpath(".//th"):
            problems.append("a table has no header cells (<th>)")
    for cell in root.xpath("//th"):
        if cell.get("scope") not in ("col", "row", "colgroup", "rowgroup"):
            problems.append(f"<th> {text_of(cell, root)!r} has no scope")
        if not text_of(cell, root):
            problems.append("a <th> is empty: name the column (visually hidden if need be)")
    return problems


def focus_problems(root: HtmlElement) -> list[str]:
    return [
        f"{where(element)} has tabindex {element.get('tabindex')}: the order follows the page"
        for element in root.xpath("//*[@tabindex]")
        if element.get("tabindex", "").strip().lstrip("-").isdigit()
        and int(str(element.get("tabindex"))) > 0
    ]


def autofocus_problems(root: HtmlElement) -> list[str]:
    """HTML allows one autofocus a page: with more, which one gets the focus is unsaid (a
    group of tick boxes once gave it to each of its options)."""
    focused = root.xpath("//*[@autofocus]")
    if len(focused) > 1:
        return [
            f"{len(focused)} elements have autofocus, not one: " + ", ".join(map(where, focused))
        ]
    return []


def error_problems(root: HtmlElement) -> list[str]:
    """A field's error is read with the field (aria-describedby, aria-invalid), and the first
    wrong field has the focus, so a screen reader says what is wrong as the page opens."""
    problems = []
    described = {
        ref
        for element in root.xpath("//*[@aria-describedby]")
        for ref in str(element.get("aria-describedby")).split()
    }
    for error_list in root.xpath("//*[contains(concat(' ', @class, ' '), ' errorlist ')]"):
        # A form's or a formset's own errors (not a field's) stand above its fields.
        if {"nonfield", "nonform"} & set(str(error_list.get("class")).split()):
            continue
        if error_list.get("id") not in described:
            problems.append(f"the error {text_of(error_list, root)!r} is tied to no field")
    invalid = root.xpath("//*[@aria-invalid='true']")
    for field in invalid:
        # Django describes a group of checkboxes or radio buttons on its fieldset.
        group = next(field.iterancestors("fieldset"), None)
        refs = str(field.get("aria-describedby", "")).split()
        if group is not None and field.get("type") in ("checkbox", "radio"):
            refs += str(group.get("aria-describedby", "")).split()
        told = [
            text_of(found, root)
            for ref in refs
            if (found := root.get_element_by_id(ref, None)) is not None
        ]
        if not any(told):
            problems.append(f"{where(field)} is marked invalid without saying why")
    if invalid and invalid[0].get("autofocus") is None:
        problems.append(f"{where(invalid[0])}, the first wrong field, does not get the focus")
    return problems


def error_at(page: str | bytes, name: str) -> str:
    """What a screen reader says is wrong with the field named `name` (its error lists that
    it is described by), or "" when it is not marked invalid."""
    root = parse(page)
    fields = root.xpath("//*[@name=$name]", name=name)
    if not fields or fields[0].get("aria-invalid") != "true":
        return ""
    refs = str(fields[0].get("aria-describedby", "")).split()
    group = next(fields[0].iterancestors("fieldset"), None)
    if group is not None:
        refs += str(group.get("aria-describedby", "")).split()
    return " ".join(
        text_of(found, root)
        for ref in refs
        if (found := root.get_element_by_id(ref, None)) is not None
        and "errorlist" in str(found.get("class", "")).split()
    )


def page_problems(page: str | bytes, language: str = "en") -> list[str]:
    root = parse(page)
    return [
        *language_problems(root, language),
        *skip_link_problems(root),
        *id_problems(root),
        *label_problems(root),
        *name_problems(root),
        *ambiguity_problems(root),
        *image_problems(root),
        *heading_problems(root),
        *table_problems(root),
        *focus_problems(root),
        *autofocus_problems(root),
        *error_problems(root),
    ]
