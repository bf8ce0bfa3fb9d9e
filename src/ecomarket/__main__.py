"""``python -m ecomarket`` runs the ``ecomarket`` command."""

from ecomarket.cli import main

main()
