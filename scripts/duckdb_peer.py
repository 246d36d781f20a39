#!/usr/bin/env python3
"""A plain DuckDB SQL script over a govmedia store: UPD001-UPD003 and the CNT001 wording scan.

The peer the benchmark compares govmedia with (`scripts/bench`): what a new user would write
with DuckDB against the same Parquet files. It follows docs/checks.md for the update rules
(updates: published up to as_of, not deleted, a WeChat mass-send once; the window a year before
as_of clipped to the account's first sighting; ISO weeks counted back from as_of's week, two for
WeChat service accounts; UPD002 at 14 days, UPD003 at 180) and scans title and text for the ads
lexicon, price tags and the label pack's ad patterns in one regular expression per field.

    scripts/duckdb_peer.py STORE --as-of 2025-11-30 [--threads N]

Prints the finding counts per rule (to compare with govmedia's) and the time taken.
"""

import argparse
import datetime as dt
import json
import re
import sys
import time
import tomllib
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
LEXICONS = ROOT / "rules" / "packs" / "lexicons"
LABELS = ROOT / "rules" / "packs" / "labels" / "post_labels.toml"


def terms(name):
    out = []
    for line in (LEXICONS / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def ad_regex():
    """One alternation: ads lexicon terms, price tags, the pack's ad patterns."""
    alts = [re.escape(t) for t in terms("ads")]
    alts.append(r"[¥￥] *\d")
    alts.append(r"(仅需|只需|低至|原价|秒杀价) *\d+(\.\d+)? *元")
    pack = tomllib.loads(LABELS.read_text(encoding="utf-8"))
    alts += [p["regex"] for p in pack["pattern"] if p["label"] == "ad"]
    return "|".join(f"(?:{a})" for a in alts)


def allow_regex():
    return "|".join(re.escape(t) for t in terms("ads_allow"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store")
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    # The window starts twelve calendar months before as_of.
    try:
        from_date = as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        from_date = as_of.replace(year=as_of.year - 1, day=28)
    epoch = dt.date(1970, 1, 1)
    as_of_day = (as_of - epoch).days
    from_day = (from_date - epoch).days
    as_of_week = (as_of_day + 3) // 7
    as_of_end_ms = (as_of_day + 1) * 86_400_000 - 8 * 3_600_000

    store = Path(args.store)
    # Layouts 2 and 3 keep posts in account-hash buckets (docs/schema.md); layout 1 in one file.
    if (store / "posts").is_dir():
        posts = f"read_parquet('{store / 'posts'}/**/*.parquet', hive_partitioning = true)"
    else:
        posts = f"read_parquet('{store / 'posts.parquet'}')"
    # Layout 3 lists each table's files in store.json; a glob over the folder is the same files
    # when no import is running. Layouts 1 and 2 kept accounts in one file.
    manifest_path = store / "store.json"
    listed = []
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        listed = manifest.get("tables", {}).get("accounts", {}).get("files", [])
    if listed:
        accounts = f"read_parquet([{', '.join(repr(str(store / f)) for f in listed)}])"
    else:
        accounts = f"read_parquet('{store / 'accounts.parquet'}')"
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    started = time.time()
    # Beijing day numbers: epoch ms + 8 h, floor-divided by a day.
    day = "floor((epoch_ms(published_at) + 28800000) / 86400000)::BIGINT"
    con.execute(f"""
        CREATE TEMP TABLE updates AS
        SELECT DISTINCT ON (p.account_id, update_key) p.account_id, p.post_id, p.day
        FROM (
            SELECT account_id, post_id, {day} AS day,
                   CASE WHEN split_part(account_id, ':', 1) = 'wechat'
                        THEN epoch_ms(published_at)::VARCHAR ELSE post_id END AS update_key
            FROM {posts}
            WHERE epoch_ms(published_at) < {as_of_end_ms} AND NOT coalesce(is_deleted, false)
        ) p
        ORDER BY p.account_id, update_key, p.post_id
    """)
    con.execute(f"""
        CREATE TEMP TABLE windows AS
        WITH ids AS (
            SELECT account_id FROM {accounts}
            UNION SELECT DISTINCT account_id FROM {posts}
        ),
        first_post AS (
            SELECT account_id, min({day}) AS first_post_day FROM {posts} GROUP BY account_id
        )
        SELECT i.account_id,
               coalesce(a.platform, split_part(i.account_id, ':', 1)) AS platform,
               a.account_kind,
               greatest({from_day}, coalesce(least(
                   floor((epoch_ms(a.first_seen) + 28800000) / 86400000)::BIGINT,
                   f.first_post_day), {from_day})) AS from_day,
               CASE WHEN coalesce(a.platform, split_part(i.account_id, ':', 1)) = 'wechat'
                         AND a.account_kind = 'service' THEN 2 ELSE 1 END AS period_weeks
        FROM ids i
        LEFT JOIN (SELECT DISTINCT ON (account_id) * FROM {accounts}) a USING (account_id)
        LEFT JOIN first_post f USING (account_id)
    """)
    max_period = (as_of_day - from_day) // 7 + 2
    upd001 = con.execute(f"""
        WITH periods AS (
            SELECT w.account_id, w.period_weeks, p.period,
                   ({as_of_week} - p.period * w.period_weeks - w.period_weeks + 1) * 7 - 3
                       AS start_day,
                   ({as_of_week} - p.period * w.period_weeks) * 7 - 3 + 6 AS end_day,
                   w.from_day
            FROM windows w, range(0, {max_period + 1}) p(period)
        ),
        judged AS (
            SELECT * FROM periods WHERE start_day >= from_day AND end_day <= {as_of_day}
        ),
        counts AS (
            SELECT u.account_id,
                   floor(({as_of_week} - floor((u.day + 3) / 7)) / w.period_weeks)::BIGINT
                       AS period,
                   count(*) AS n
            FROM updates u JOIN windows w USING (account_id)
            WHERE u.day >= w.from_day
            GROUP BY ALL
        )
        SELECT count(*) FROM judged j LEFT JOIN counts c USING (account_id, period)
        WHERE coalesce(c.n, 0) < 1
    """).fetchone()[0]
    silence = con.execute(f"""
        WITH last AS (SELECT account_id, max(day) AS last_day FROM updates GROUP BY account_id)
        SELECT count(*) FILTER (WHERE last_day IS NULL OR {as_of_day} - last_day >= 14),
               count(*) FILTER (WHERE last_day IS NULL OR {as_of_day} - last_day >= 180)
        FROM windows LEFT JOIN last USING (account_id)
    """).fetchone()
    ads, allow = ad_regex(), allow_regex()

    def scrub(field):
        # Allow-listed phrases (公益广告, 政府采购公告 …) never count: remove them first.
        return f"regexp_replace(coalesce({field}, ''), '{allow}', '', 'g')"

    cnt001 = con.execute(f"""
        SELECT count(*) FROM {posts} p JOIN windows w USING (account_id)
        WHERE NOT coalesce(p.is_deleted, false)
          AND {day} BETWEEN w.from_day AND {as_of_day}
          AND (regexp_matches({scrub('p.title')}, '{ads}')
               OR regexp_matches({scrub('p.text')}, '{ads}'))
    """).fetchone()[0]
    elapsed = time.time() - started
    print(f"UPD001 {upd001}")
    print(f"UPD002 {silence[0]}")
    print(f"UPD003 {silence[1]}")
    print(f"CNT001 {cnt001}")
    print(f"duckdb {duckdb.__version__}: {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
