"""`tenantry site`: a static dashboard of every building. `pages` builds the page model from
the documents, a ledger snapshot and `today` (pure); `charts` lays out its inline SVG charts
(pure); `render` reads the ledger and writes the HTML through Jinja2 (the shell)."""
