"""``python -m analyst``."""

from analyst.cli import main

main()
