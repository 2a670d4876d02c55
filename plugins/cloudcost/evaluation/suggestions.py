"""The correlation sweep: suggest a team for untagged resources with material spend, from evidence.

Three kinds of evidence, each the cost share of one team among *tagged* rows that share something with the
untagged resource over the window:
- ``tags``: another tag the resource carries (e.g. ``cost-center=cc-101``, OCI's ``CreatedBy``) that tagged
  rows with a team also carry (weight 0.5);
- ``name``: the resource's name stem (its id or name without a trailing number or hash), shared with tagged
  resources (weight 0.3);
- ``account``: its sub account or project (weight 0.2).
A team's confidence is the weighted sum of its shares (0..1); the best team is suggested when its confidence
reaches ``MIN_CONFIDENCE``. Nothing is changed: a person accepts or rejects each suggestion.

Costs are weighed within one BillingCurrency: an untagged resource is compared with tagged rows billed in
its own currency only, so no share adds EUR to USD.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from cloudcost.config import OrgConfig
from cloudcost.identifiers import qualified
from cloudcost.rollups.refresh import render, rollup_params
from cloudcost.rollups.upgrade import CURRENCY, ensure_current_tables, upgrade_suggestions
from cloudcost.schemas import focus_schema, load_table_schema
from cloudcost.warehouse.base import Warehouse

WEIGHTS = {"tags": Decimal("0.5"), "name": Decimal("0.3"), "account": Decimal("0.2")}
MIN_CONFIDENCE = Decimal("0.3")
MIN_COST = Decimal("1")
WINDOW_DAYS = 7
Q = Decimal("0.0001")


def name_stem(resource: str | None) -> str | None:
    """``demo-fn-17`` -> ``demo-fn``; ``i-0a1b2c3d4e5f`` -> ``i``; ARNs keep their last path part's stem."""
    if not resource:
        return None
    tail = re.split(r"[/:]", resource)[-1]
    stem = re.sub(r"([-_.]?([0-9]+|[0-9a-f]{8,}))+$", "", tail, flags=re.IGNORECASE)
    return stem.lower() or None


def _shares(costs: dict[str, Decimal]) -> dict[str, Decimal]:
    total = sum(costs.values(), Decimal(0))
    return {team: cost / total for team, cost in costs.items()} if total > 0 else {}


def sweep(warehouse: Warehouse, org: OrgConfig, day: date, now: datetime) -> list[dict]:
    """Suggestions for the window ending ``day``; replaces the open ones, keeps decided ones."""
    start = day - timedelta(days=WINDOW_DAYS - 1)
    tagged_sql = render("tagged_rows", {"focus_table": qualified(org.dataset, focus_schema().table)}).replace(
        "x_ingestion_date = $billing_day", "x_ingestion_date between $window_start and $billing_day"
    )
    params = {k: v for k, v in rollup_params(org, day, now).items() if f"${k}" in tagged_sql}
    params["window_start"] = start
    schema = load_table_schema("rollups/attribution_suggestions.yml")
    table = qualified(org.dataset, schema.table)

    def sweep_once() -> list[dict]:
        with warehouse.session(org.dataset) as session:
            rows = session.fetchall(
                "select provider, resource_id, resource_name, sub_account_id, team, billing_currency, effective_cost, "
                "array(select lower(regexp_replace(tag_key, '^.*[:.]', '')) || '=' "
                # the value by the key as a JSON Pointer, read literally (see tagged_rows.sql)
                "|| lower(trim(coalesce(tags ->> ('/' || replace(replace(tag_key, '~', '~0'), '/', '~1')), ''))) "
                "from unnest(json_keys(tags)) as tag_keys(tag_key)) "
                f"from ({tagged_sql})",
                params,
            )
            by_tag: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
            by_name: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
            by_account: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
            untagged: dict[tuple[str, str, str], dict] = {}
            team_keys = set(org.attribution.aliases()["team"])  # any other tag may be evidence (cost-center, ...)
            for provider, resource, name, account, team, currency, cost, tags in rows:
                cost = Decimal(cost or 0)
                other_tags = [t for t in tags or [] if t.split("=", 1)[0] not in team_keys]
                if team != "__untagged__":
                    for tag in other_tags:
                        by_tag[f"{currency}:{tag}"][team] += abs(cost)
                    if stem := name_stem(name or resource):
                        by_name[f"{currency}:{provider}:{stem}"][team] += abs(cost)
                    if account:
                        by_account[f"{currency}:{provider}:{account}"][team] += abs(cost)
                elif resource:
                    entry = untagged.setdefault(
                        (provider, resource, currency),
                        {"account": account, "name": name, "cost": Decimal(0), "tags": set()},
                    )
                    entry["cost"] += cost
                    entry["tags"].update(other_tags)
            suggestions = []
            for (provider, resource, currency), entry in sorted(untagged.items()):
                if entry["cost"] < MIN_COST:
                    continue
                scores: dict[str, Decimal] = defaultdict(Decimal)
                evidence: dict[str, dict] = {}
                tag_costs: dict[str, Decimal] = defaultdict(Decimal)
                for tag in entry["tags"]:
                    for team, cost in by_tag.get(f"{currency}:{tag}", {}).items():
                        tag_costs[team] += cost
                stem = name_stem(entry["name"] or resource)
                sources = {
                    "tags": (sorted(entry["tags"]), tag_costs),
                    "name": (stem, by_name.get(f"{currency}:{provider}:{stem}", {}) if stem else {}),
                    "account": (entry["account"], by_account.get(f"{currency}:{provider}:{entry['account']}", {})),
                }
                for kind, (shared, costs) in sources.items():
                    shares = _shares(dict(costs))
                    for team, share in shares.items():
                        scores[team] += WEIGHTS[kind] * share
                    if shares:
                        top = max(shares, key=lambda t: shares[t])
                        evidence[kind] = {"shared": shared, "top_team": top, "share": str(shares[top].quantize(Q))}
                if not scores:
                    continue
                team = max(sorted(scores), key=lambda t: scores[t])
                confidence = scores[team].quantize(Q)
                if confidence < MIN_CONFIDENCE:
                    continue
                suggestions.append(
                    {
                        "suggestion_id": hashlib.sha1(f"{provider}|{resource}|{team}|{currency}".encode()).hexdigest()[
                            :16
                        ],
                        "provider": provider,
                        "resource_id": resource,
                        "sub_account_id": entry["account"],
                        "window_start": start,
                        "window_end": day,
                        "effective_cost": entry["cost"],
                        "suggested_team": team,
                        "confidence": confidence,
                        "evidence": json.dumps(evidence, sort_keys=True),
                        "status": "open",
                        "created_at": now,
                        "decided_at": None,
                        "billing_currency": currency,
                    }
                )
            legacy = ensure_current_tables(warehouse, session, org.dataset, [schema.table])
            with warehouse.transaction(session):
                if legacy:
                    upgrade_suggestions(session, org.dataset, focus_schema().table)
                    warehouse.ensure_table(session, org.dataset, schema)
                decided = set(
                    session.fetchall(
                        f"select provider, resource_id, suggested_team, {CURRENCY} from {table} where status <> 'open'"
                    )
                )
                session.execute(f"delete from {table} where status = 'open'")
                for row in suggestions:
                    key = (row["provider"], row["resource_id"], row["suggested_team"])
                    if (*key, row["billing_currency"]) in decided or (*key, None) in decided:
                        continue  # decided before, in this currency or before currencies were recorded
                    columns = list(row)
                    # a JSON column is given text: json(?) parses it (a warehouse may not cast text to JSON itself)
                    values = ", ".join("json(?)" if schema.column(c).type == "json" else "?" for c in columns)
                    session.execute(f"insert into {table} ({', '.join(columns)}) values ({values})", list(row.values()))
        return suggestions

    # the open suggestions are replaced whole: a backfill's sweep of another day can cancel this transaction
    # (warehouse/conflicts.py), and the sweep then runs again from the FOCUS rows
    return warehouse.retry_conflicts(sweep_once, f"sweep {org.slug} {day}")


def decide(warehouse: Warehouse, org: OrgConfig, suggestion_id: str, accept: bool, now: datetime) -> None:
    """Record a person's decision on an open suggestion; unknown or already decided ids are an error."""
    table = qualified(org.dataset, "attribution_suggestions")
    with warehouse.session(org.dataset) as session:
        found = session.fetchall(f"select status from {table} where suggestion_id = ?", [suggestion_id])
        if not found:
            raise KeyError(f"org {org.slug}: no suggestion {suggestion_id!r}")
        if found[0][0] != "open":
            raise ValueError(f"org {org.slug}: suggestion {suggestion_id} was already {found[0][0]}")
        session.execute(
            f"update {table} set status = ?, decided_at = ? where suggestion_id = ?",
            ["accepted" if accept else "rejected", now, suggestion_id],
        )


def acceptance_rate(warehouse: Warehouse, org: OrgConfig) -> Decimal | None:
    """Accepted ÷ decided suggestions; None before any decision."""
    with warehouse.session(org.dataset) as session:
        accepted, decided = session.fetchall(
            f"select count(*) filter (where status = 'accepted'), count(*) filter (where status <> 'open') "
            f"from {qualified(org.dataset, 'attribution_suggestions')}"
        )[0]
    return (Decimal(accepted) / decided).quantize(Q) if decided else None
