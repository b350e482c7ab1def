"""Building the book and what every chapter shows: executing the chapters (``execute``),
rendering them (``render``, ``citation``), the build (``build``, ``chapters``), a chapter's
start (``chapter``, ``parameters``, ``banner``), its tables (``tables``) and figures (``plots``),
and the Sphinx extensions (``bibstyle``, ``sphinx_downloads``)."""
