"""What a campaign costs: the estimate before it sends (recipients by country × the template's category, priced by
the rate card: webapp/pricing), what Meta bills as it sends (the `pricing` of status webhooks), and the workspace's
monthly budget, which pauses a campaign before a message would exceed it.

The actual cost is kept like the counters: `record_billed` adds each message's price once, when its first billable
status is recorded (campaigns/statuses.py), to its campaign's counters ("cost" in millionths, "billed") and to the
month's spend (pricing/spend.py) — so no page ever sums a million rows.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.errors import CampaignError
from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, CampaignCounter, Recipient
from webapp.campaigns.state_log import announce
from webapp.money import from_micros, to_micros
from webapp.pricing import spend
from webapp.pricing.rate_card import Prices, ensure_card, prices
from webapp.senders.models import Template
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings

COST, BILLED = "cost", "billed"  # the campaign counters: millionths of the card's currency, billable messages
NO_COUNTRY = ""


def category_of(template: Template | None) -> str:
    """The pricing category of a campaign's messages: its template's (a deleted template: marketing, the dearest)."""
    return (template.category.lower() if template is not None and template.category else "") or "marketing"


def money(amount: Decimal | int | None, currency: str, *, micros: bool = False, places: int = 2) -> str:
    """"USD 12.35" (`micros`: the amount is in millionths); prices per message read better with `places=4`."""
    if amount is None:
        return "—"
    value = from_micros(amount) if micros else Decimal(amount)
    return f"{currency} {value:,.{places}f}"


# --- The estimate -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    cost: Decimal
    currency: str
    category: str
    unpriced: dict[str, int] = field(default_factory=dict)  # country ("": unknown) -> recipients the card cannot price

    @property
    def shown(self) -> str:
        return money(self.cost, self.currency)

    @property
    def unpriced_count(self) -> int:
        return sum(self.unpriced.values())

    def unpriced_words(self) -> list[str]:
        """"12 recipients in XK: no price in the rate card", one line a country."""
        return [f"{count:,} recipient{'s' if count != 1 else ''} "
                f"{'whose number has no country' if not country else 'in ' + country}: no {self.category} price in "
                "the rate card" for country, count in sorted(self.unpriced.items(), key=lambda kv: (-kv[1], kv[0]))]

    def as_json(self) -> dict:
        return {"cost": str(self.cost), "currency": self.currency, "category": self.category,
                "unpriced": dict(self.unpriced)}

    @classmethod
    def from_json(cls, data: Mapping) -> Estimate:
        return cls(Decimal(data["cost"]), data["currency"], data["category"], dict(data.get("unpriced") or {}))


def estimate(by_country: Mapping[str, int], category: str, card: Prices) -> Estimate:
    """Σ recipients of each country × that country's price of `category`; the countries the card lacks are named."""
    cost, unpriced = Decimal(0), Counter()
    for country, count in by_country.items():
        price = card.of(category, country)
        if price is None:
            unpriced[country or NO_COUNTRY] += count
        else:
            cost += price * count
    return Estimate(cost, card.currency, category, dict(unpriced))


def estimate_rows(session: Session, campaign: Campaign) -> Estimate:
    """The estimate of a launched campaign from its rows (those to be sent or sent), kept on the campaign: one
    GROUP BY by country, once, when the launch has written them."""
    by_country = dict(session.execute(
        select(Recipient.country, func.count()).where(Recipient.campaign_id == campaign.id,
                                                      Recipient.status.not_in(("skipped", "cancelled")))
        .group_by(Recipient.country)).all())
    found = estimate(by_country, category_of(campaign.template), prices(session))
    campaign.cost_estimate = found.as_json()
    return found


def stored_estimate(campaign: Campaign) -> Estimate | None:
    return Estimate.from_json(campaign.cost_estimate) if campaign.cost_estimate else None


# --- What Meta bills --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Charge:
    """One message's first billable status: its campaign, when, and its price (None: the card has none)."""

    campaign_id: int
    at: datetime
    price: Decimal | None


def record_billed(session: Session, charges: Iterable[Charge]) -> None:
    """Add billed messages to their campaigns' cost counters and to the month's spend, once per batch (in campaign
    order: a fixed lock order). The dashboard's daily cost can be added here too."""
    by_campaign: dict[int, Counter] = {}
    by_month: Counter = Counter()
    for charge in charges:
        micros = to_micros(charge.price) if charge.price is not None else 0
        by_campaign.setdefault(charge.campaign_id, Counter()).update({COST: micros, BILLED: 1})
        by_month[spend.month_of(charge.at)] += micros
    for campaign_id in sorted(by_campaign):
        add_counts(session, campaign_id, by_campaign[campaign_id])
    for month in sorted(by_month):
        spend.add(session, month, by_month[month])


@dataclass(frozen=True)
class Actual:
    micros: int
    billed: int  # messages Meta said it bills
    currency: str

    @property
    def cost(self) -> Decimal:
        return from_micros(self.micros)

    @property
    def shown(self) -> str:
        return money(self.micros, self.currency, micros=True)


@dataclass(frozen=True)
class CampaignCost:
    """What the campaign page and the API say of a campaign's cost."""

    estimate: Estimate | None  # None until launched (the compose page's forecast says it before)
    actual: Actual


def campaign_cost(session: Session, campaign: Campaign) -> CampaignCost:
    return CampaignCost(stored_estimate(campaign), actual(session, campaign.id))


def actual(session: Session, campaign_id: int, currency: str | None = None) -> Actual:
    """The campaign's billed cost so far, from its counters (a few rows, whatever its size)."""
    found = dict(session.execute(
        select(CampaignCounter.name, func.sum(CampaignCounter.value))
        .where(CampaignCounter.campaign_id == campaign_id, CampaignCounter.name.in_((COST, BILLED)))
        .group_by(CampaignCounter.name)).all())
    return Actual(int(found.get(COST) or 0), int(found.get(BILLED) or 0), currency or ensure_card(session).currency)


# --- The monthly budget ------------------------------------------------------------------------------------

@dataclass
class Budget:
    """What is left of this month's budget for one campaign's dispatcher, spent down message by message."""

    limit: int          # millionths
    spent: int          # billed this month
    unbilled: int       # this campaign's messages accepted but not billed yet, at their estimated price
    currency: str
    category: str
    card: Prices
    left: int = 0

    def __post_init__(self) -> None:
        self.left = self.limit - self.spent - self.unbilled

    def price(self, country: str) -> int:
        found = self.card.of(self.category, country)
        return to_micros(found) if found is not None else 0

    def admit(self, countries: list[str]) -> int:
        """How many of the next messages (to these countries, in order) fit in what is left; spends them."""
        for taken, country in enumerate(countries):
            cost = self.price(country)
            if cost > self.left:
                return taken
            self.left -= cost
        return len(countries)

    def notice(self) -> str:
        return (f"Paused: the next message would exceed this month's budget of {money(self.limit, self.currency, micros=True)} "
                f"({money(self.spent, self.currency, micros=True)} billed so far this month"
                f"{', ' + money(self.unbilled, self.currency, micros=True) + ' more on its way' if self.unbilled else ''}). "
                "Raise the budget at Settings → Pricing, or resume next month.")


def budget_for(session: Session, campaign: Campaign, now: datetime | None = None) -> Budget | None:
    """This month's budget as it stands for `campaign` (None: the workspace has no budget). The messages the
    campaign sent that Meta has not billed yet count at the card's price, so a slow webhook cannot let it overspend;
    other campaigns' are counted once billed."""
    limit = WorkspaceSettings.get().monthly_budget
    if limit is None:
        return None
    card, category = prices(session), category_of(campaign.template)
    waiting = session.execute(select(Recipient.country, func.count()).where(
        Recipient.campaign_id == campaign.id, Recipient.status == "accepted")
        .group_by(Recipient.country)).all()
    unbilled = sum(to_micros(price) * count for country, count in waiting
                   if (price := card.of(category, country)) is not None)
    return Budget(to_micros(limit), spend.spent(session, spend.month_of(now or utcnow())), unbilled, card.currency,
                  category, card)


def pause_over_budget(session: Session, campaign_id: int, budget: Budget) -> bool:
    """Pause a sending campaign whose next message would exceed the budget, with a banner saying so."""
    notice = budget.notice()
    paused = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending")
                             .values(status="paused", notice=notice, notice_code=None)).rowcount
    if paused:
        name = session.scalar(select(Campaign.name).where(Campaign.id == campaign_id))
        announce(session, campaign_id, name, "paused", why=notice)
    return bool(paused)


def check_resume(session: Session, campaign: Campaign) -> None:
    """Refuse to resume a campaign whose next message is already over the budget."""
    budget = budget_for(session, campaign)
    if budget is None:
        return
    country = session.scalar(select(Recipient.country).where(Recipient.campaign_id == campaign.id,
                                                             Recipient.status == "pending")
                             .order_by(Recipient.id).limit(1))
    if country is not None and not budget.admit([country]):
        raise CampaignError(f"Not resumed: {budget.notice().removeprefix('Paused: ')}", code="conflict")


def check_launch(session: Session, found: Estimate) -> None:
    """Refuse a launch whose estimate is more than what is left of this month's budget."""
    limit = WorkspaceSettings.get().monthly_budget
    if limit is None:
        return
    spent = spend.spent(session, spend.month_of(utcnow()))
    left = to_micros(limit) - spent
    if to_micros(found.cost) > left:
        raise CampaignError(
            f"This campaign would cost about {money(found.cost, found.currency)}, more than the "
            f"{money(max(left, 0), found.currency, micros=True)} left of this month's budget "
            f"({money(limit, found.currency)}, {money(spent, found.currency, micros=True)} billed so far). "
            "Raise the budget at Settings → Pricing, or send to fewer recipients.", code="conflict")
