#!/usr/bin/env python
"""Django's command-line utility, with start-up errors as one-line messages."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")
    from printmgmt.startup import run_command_line

    sys.exit(run_command_line(sys.argv))


if __name__ == "__main__":
    main()
