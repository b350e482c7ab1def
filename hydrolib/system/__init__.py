"""System helpers every wing may use: atomic files and their checks (``files``), locks between
processes (``locks``), worker processes that end with their parent (``processes``), the marker of
the folders hydrolib owns and may delete (``ownership``), errors said plainly (``errors``), and what
a part of the library runs, found from its imports (``code``). Nothing here knows about hydrology."""
