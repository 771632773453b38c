"""Settings → Pricing: the rate card (its date and source, a price edited, Meta's CSV imported) and the workspace's
monthly budget, for admins (the settings blueprint refuses staff)."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from webapp.extensions import db
from webapp.money import from_micros
from webapp.pricing import spend
from webapp.pricing.models import CATEGORIES
from webapp.pricing.rate_card import REQUIRED, PricingError, import_card, prices, set_price
from webapp.settings.blueprint import bp
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings


class PriceForm(FlaskForm):
    market = StringField("Market", validators=[InputRequired(), Length(max=64)],
                         description="One of Meta's markets (e.g. India, Rest of Africa) or a country code (e.g. XK).")
    category = SelectField("Category", choices=[(c, c.capitalize()) for c in CATEGORIES])
    price = StringField("Price per message", validators=[Length(max=20)], description="Blank: no price.")


class ImportForm(FlaskForm):
    file = FileField("Meta's rate card (CSV)", validators=[FileRequired("Choose the CSV file to import.")])
    source = StringField("Source", validators=[Length(max=500)],
                         description="Where it comes from, e.g. Meta's USD rate card downloaded on 1 Jan 2026.")
    effective_date = DateField("Effective from", validators=[Optional()])


class BudgetForm(FlaskForm):
    monthly_budget = StringField("Monthly budget", validators=[Length(max=20)],
                                 description="Blank: no budget.")


def _page(price_form=None, import_form=None, budget_form=None, status: int = 200):
    card = prices(db.session)
    settings = WorkspaceSettings.get()
    budget_form = budget_form or BudgetForm(formdata=None, monthly_budget=f"{settings.monthly_budget:.2f}"
                                            if settings.monthly_budget is not None else "")
    answer = render_template(
        "settings/pricing.html", card=card, categories=CATEGORIES, columns=[c.title() for c in REQUIRED],
        spent=from_micros(spend.spent(db.session, spend.month_of(utcnow()))), budget=settings.monthly_budget,
        price_form=price_form or PriceForm(formdata=None), import_form=import_form or ImportForm(formdata=None),
        budget_form=budget_form)
    db.session.commit()  # the card is seeded on first sight
    return answer, status


@bp.get("/pricing")
def pricing():
    return _page()


@bp.post("/pricing/price")
def edit_price():
    form = PriceForm()
    if form.validate_on_submit():
        try:
            market, value = set_price(db.session, form.market.data, form.category.data, form.price.data or "")
        except PricingError as error:
            db.session.rollback()
            getattr(form, error.field if error.field in ("market", "category") else "price").errors.append(
                error.message)
        else:
            db.session.commit()
            flash(f"{market}: {form.category.data} is now "
                  f"{'without a price' if value is None else f'{value:f} per message'}.", "success")
            return redirect(url_for("settings.pricing"))
    return _page(price_form=form, status=422)


@bp.post("/pricing/import")
def import_rate_card():
    form = ImportForm()
    if form.validate_on_submit():
        try:
            parsed = import_card(db.session, form.file.data.read(), form.source.data or form.file.data.filename or "",
                                 form.effective_date.data or date.today())
        except PricingError as error:
            db.session.rollback()
            form.file.errors.append(error.message)
        else:
            db.session.commit()
            flash(f"The rate card now has {len(parsed.rows)} markets, in {parsed.currency}.", "success")
            return redirect(url_for("settings.pricing"))
    return _page(import_form=form, status=422)


@bp.post("/pricing/budget")
def set_budget():
    form = BudgetForm()
    if form.validate_on_submit():
        try:
            value = spend.set_budget(db.session, form.monthly_budget.data or "")
        except PricingError as error:
            db.session.rollback()
            form.monthly_budget.errors.append(error.message)
        else:
            db.session.commit()
            flash("No monthly budget: campaigns send whatever they cost." if value is None else
                  f"The monthly budget is {value:,.2f}: a campaign pauses before a message would exceed it.",
                  "success")
            return redirect(url_for("settings.pricing"))
    return _page(budget_form=form, status=422)
