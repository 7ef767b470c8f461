#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credits_platform.settings.local")
    # An operator's command prints its own lines; the services' INFO logs (a line per grant, per
    # batch) belong in the server's and the worker's logs. LOG_LEVEL set by hand still decides.
    if sys.argv[1:2] != ["runserver"]:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
