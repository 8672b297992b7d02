"""Browser helper: choose a record in a record picker (crm/pickers.py, static/js/picker.js)."""


def pick(page, name: str, text: str, typed: str = "") -> None:
    """Open the picker of field ``name``, type ``typed`` (if any) and choose the option whose
    text contains ``text``; waits until the form's select holds it."""
    # the box around the typed text (the text input itself is hidden while a record is shown)
    page.locator(f"#id_{name} + .ts-wrapper .ts-control").click()
    if typed:
        page.fill(f"#id_{name}-ts-control", typed)
    option = page.locator(f"#id_{name}-ts-dropdown .option", has_text=text).first
    option.click()
    page.wait_for_function(
        "([name, text]) => { const s = document.getElementById('id_' + name);"
        " return s.selectedIndex >= 0 && s.options[s.selectedIndex].text.includes(text); }",
        arg=[name, text],
    )
