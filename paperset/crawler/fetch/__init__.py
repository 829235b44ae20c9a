"""Getting answers: the download handler (the politeness gate at the wire, Playwright for the browser
path), hosts and redirects, the browser's launch, politeness, and the web archive (an add-on)."""
