"""URL rules whose builders are compiled on first use instead of at start.

Werkzeug compiles two Python functions per rule (``url_for`` with and without extra query
arguments) through ``ast`` + ``compile()`` while the rule is added.  The app has ~560 rules
(40 entities × screens and REST API, plus FAB's own), and compiling ~1,100 builders was about
a fifth of ``create_app``; a page only ever builds URLs for a few dozen endpoints.  This rule
compiles a builder the first time it is called and then replaces itself with it, so URL
building behaves exactly as Werkzeug's (same code, same errors); matching is untouched.
"""

from __future__ import annotations

from typing import Any, Callable

from werkzeug.routing import Rule


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        attr = "_build_unknown" if append_unknown else "_build"

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            real = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, attr, real)  # later calls go straight to the compiled builder
            return real(**values)  # type: ignore[no-any-return]

        return build
