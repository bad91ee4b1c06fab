"""Drop script tags that an extension registered twice.

Under Jupyter Book 1, sphinx-thebe's setup hook runs twice and emits `const THEBE_JS_URL = ...` twice, which
throws "Identifier 'THEBE_JS_URL' has already been declared" in every page's console. The copies differ only in
their empty filename (``None`` vs ``""``), so Sphinx's own de-duplication misses them.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for js in context.get("script_files", []):
        key = (getattr(js, "filename", js) or "", tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
