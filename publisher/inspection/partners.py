"""What each partner holds (`supply` rows), held to the articles: a holding must be an approved,
current, unretracted revision. A retracted article still usable at a partner, a held revision that
was never approved, or an older revision after an approved correction are findings."""

from __future__ import annotations

from sqlmodel import Session, col, select

from publisher.inspection.findings import Finding
from publisher.store.retractions import in_force_ids
from publisher.store.tables import Article, ReviewState, Supply


def inspect_partners(session: Session) -> list[Finding]:
    rows = session.exec(
        select(Supply, Article.slug, Article.current_revision_id)
        .join(Article, col(Article.id) == col(Supply.article_id))
        .where(Supply.pubstatus == "usable")
        .order_by(col(Supply.partner), col(Article.slug))
    ).all()
    if not rows:
        return []
    retracted = set(session.scalars(in_force_ids()))
    held = {supply.revision_id for supply, _, _ in rows} | {c for _, _, c in rows if c}
    approved = set(
        session.exec(
            select(ReviewState.revision_id).where(
                col(ReviewState.revision_id).in_(held), ReviewState.status == "approved"
            )
        )
    )
    findings: list[Finding] = []
    for supply, slug, current in rows:
        where = f"{supply.partner}:{slug}"
        evidence = f"{slug} rev {supply.revision_id[:12]} v{supply.version}"
        if supply.article_id in retracted:
            findings.append(
                Finding(
                    "partner.retracted-live",
                    where,
                    "已撤稿的稿件在合作方处仍为可用 / a retracted article is still usable at a partner",
                    evidence,
                    channel=supply.partner,
                )
            )
        elif supply.revision_id not in approved:
            findings.append(
                Finding(
                    "partner.unapproved",
                    where,
                    "合作方持有的版本未经审定 / a partner holds a revision that was never approved",
                    evidence,
                    channel=supply.partner,
                )
            )
        elif current and current != supply.revision_id and current in approved:
            findings.append(
                Finding(
                    "partner.outdated",
                    where,
                    "合作方持有旧版本，更正未送达 / a partner holds an older revision than the approved correction",
                    f"{evidence} → {current[:12]}",
                    channel=supply.partner,
                )
            )
    return findings
