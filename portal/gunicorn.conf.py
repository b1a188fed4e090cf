"""The production profile for gunicorn: `gunicorn -c portal/gunicorn.conf.py portal.wsgi`.

gthread workers, not sync: a sync worker waits on one socket, so three idle connections held all
three workers and stalled the whole site for 30 s. A gthread worker gives a silent connection a
thread for at most 5 s and then parks it in its poller; with 16 threads a worker absorbs a dozen
silent clients at once and still answers everyone else. A buffering proxy in front (nginx) is
still the right place to absorb clients that trickle a request in byte by byte.
Every value can be overridden from the environment (GUNICORN_*) or the command line.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# A request that runs longer than this is killed; clients get nothing from a stuck worker anyway.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Proxies in front send X-Forwarded-*; trust them only from where they really run.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
wsgi_app = "portal.wsgi:application"
