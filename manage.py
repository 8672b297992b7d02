#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    # Commands in a checkout are development by default. The production entry points (gunicorn
    # through crm/wsgi.py, the Celery app) get no such default: with DEBUG unset they refuse to
    # start without SECRET_KEY; docker-compose.yml sets DEBUG=0 for its manage.py commands too.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
