"""Where a page's time goes: cProfile over repeated requests of one bench page.

    python tests/bench/hotspots.py --db /tmp/bench/sqlite/bench.sqlite3 --meta .../meta.json \
        [--page list|search|detail|handyman|board|board-day|bare] [--repeats 50] [--top 25]

Run it on a database `run.py --keep DIR` left behind (or any DATABASE_URL). Prints the functions
with the most own time and the most cumulative time, and the share of the request spent in the
template engine, the ORM and the database driver: the numbers the performance round starts from.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
warnings.simplefilter("ignore")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, help="a SQLite bench database (else DATABASE_URL)")
    parser.add_argument("--meta", type=Path, required=True)
    parser.add_argument(
        "--page",
        default="list",
        choices=["list", "search", "detail", "handyman", "board", "board-day", "bare"],
    )
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if args.db:
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db.resolve()}"

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from installations.models import Handyman

    settings.DEBUG = False
    meta = json.loads(args.meta.read_text())
    client = Client()
    if args.page == "handyman":
        client.force_login(Handyman.objects.get(pk=meta["busy_handyman_id"]).user)
        url = reverse("handyman:jobs")
    elif args.page != "bare":
        client.force_login(get_user_model().objects.get(username=meta["big_partner_user"]))
        url = {
            "list": reverse("partner:list"),
            "search": f"{reverse('partner:list')}?q={meta['search_term']}",
            "detail": reverse("partner:detail", args=[meta["long_history_id"]]),
            "board": reverse("board:week"),
            "board-day": f"{reverse('board:week')}?day={timezone.localdate().isoformat()}",
        }[args.page]
    else:
        url = "/bench/bare/"
    for _ in range(3):  # warm caches, templates and connections
        assert client.get(url).status_code == 200, url
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeats):
        client.get(url)
    profiler.disable()

    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(
        f"# {args.page}: {url} ({args.repeats} requests, {total / args.repeats * 1000:.1f} ms each)"
    )
    shares = {"template engine": "django/template/", "ORM": "django/db/models/"}
    shares["database driver"] = (
        "sqlite3" if "sqlite" in settings.DATABASES["default"]["ENGINE"] else "psycopg"
    )
    for label, needle in shares.items():
        own = sum(row[2] for key, row in stats.stats.items() if needle in key[0])
        print(f"  {label}: {own / total:.0%} of own time")
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\n## by {order}\n")
        print(buffer.getvalue().split("\n", 6)[-1] if order else buffer.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
