"""The generator's rates, declared once as data: the code draws from them, the docs render them.

Every event table is a stream of rows per (provider, table). A person's expected number of
rows is proportional to ``exposure × exp(beta × propensity)``, where exposure is the number
of days of the ten-year window during which the person was eligible (age band, and for some
tables being a household head or a driver), and the constant is chosen so that the expected
total at scale 1.0 is ``rows``. With ``dispersion`` set, the rate is further multiplied by a
per-person Gamma(k, 1/k) factor of mean 1 (a negative binomial: a few people account for
many rows, as with regular volunteers or repeat offenders).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Who = Literal["everyone", "heads", "drivers"]


@dataclass(frozen=True)
class EventRate:
    """How many rows a stream holds, who gets them, and how propensity shifts them."""

    provider: str
    table: str
    rows: int
    who: Who
    min_age: int
    max_age: int
    beta: float
    dispersion: float | None
    prefix: str
    values: str


EVENT_RATES: tuple[EventRate, ...] = (
    EventRate(
        "village_committees",
        "moral_reviews",
        4_200_000,
        "everyone",
        18,
        100,
        0.15,
        3.0,
        "DDPY",
        "level grid 45% / village 35% / town 15% / city 5%; rating from "
        "0.9·propensity + N(0,1): about 25% excellent, 50% good, 20% fair, 5% poor; "
        "six categories, equally likely",
    ),
    EventRate(
        "grid_office",
        "village_rules_points",
        11_000_000,
        "everyone",
        18,
        100,
        0.1,
        2.0,
        "WGJF",
        "a deduction with probability logistic(−2.0 − 1.1·propensity) (about 15%): "
        "−1/−2/−5/−10/−20 points for illegal_building, littering, neighbour_dispute, "
        "rule_breach; otherwise +1/+2/+3/+5/+10 for the six positive items",
    ),
    EventRate(
        "market_regulation",
        "administrative_penalties",
        250_000,
        "everyone",
        20,
        80,
        -0.9,
        0.5,
        "YSJCF",
        "food_safety, product_quality, unlicensed_business, "
        "false_advertising; severity minor 50% / general 42% / serious 8% (worse at low "
        "propensity); warnings carry no fine (empty fine_amount); fines log-normal "
        "(median 500 / 3,000 / 50,000 CNY by severity); fulfilled after 0–180 days",
    ),
    EventRate(
        "urban_management",
        "administrative_penalties",
        350_000,
        "everyone",
        20,
        90,
        -0.8,
        0.5,
        "YZFCF",
        "illegal_construction, environment, city_appearance; severity, "
        "penalty, fine and fulfilment as for market regulation",
    ),
    EventRate(
        "court",
        "criminal_judgments",
        40_000,
        "everyone",
        18,
        80,
        -1.5,
        0.3,
        "YXC",
        "dangerous_driving 35%, theft 20%, fraud 15%, assault 10%, gambling 10%, "
        "drug_offence 5%, bribery 5%; dangerous driving gets detention (1–6 months) "
        "or probation; others fine_only 10% / probation 30% / detention 25% / fixed_term "
        "35% (log-normal, median 18 months); sentence_end_date is the date the sentence "
        "ends, which for sentences still being served lies after the as-of date",
    ),
    EventRate(
        "public_security",
        "public_security_penalties",
        200_000,
        "everyone",
        16,
        80,
        -1.2,
        0.3,
        "YGCF",
        "gambling 30%, affray 25%, public_disorder 15%, petty_theft 15%, "
        "trespass 10%, false_report 5%; warning 20% / fine 50% / detention 30% "
        "(3–15 days, half also fined); served on the decision date plus detention",
    ),
    EventRate(
        "traffic_police",
        "traffic_violations",
        5_000_000,
        "drivers",
        18,
        80,
        -0.5,
        1.0,
        "YJT",
        "illegal_parking 45%, speeding 30%, red_light 10%, no_seatbelt 7%, "
        "phone_while_driving 5%, drunk_driving 2%, unlicensed_driving 1%, with the "
        "statutory points and fines; unsettled with probability logistic(−3.5 − "
        "0.8·propensity), or 50% within 60 days of the as-of date",
    ),
    EventRate(
        "court",
        "dishonest_debtors",
        30_000,
        "everyone",
        20,
        80,
        -1.5,
        0.3,
        "YZX",
        "private_loan 40%, contract 25%, commercial 20%, tort 10%, labour 5%; amount "
        "log-normal (median 80,000 CNY); never removed with probability "
        "logistic(−1.0 − 0.8·propensity), otherwise removed after a log-normal time "
        "(median 400 days); empty removed_date while still listed",
    ),
    EventRate(
        "tax_bureau",
        "tax_arrears",
        150_000,
        "everyone",
        22,
        85,
        -0.9,
        0.5,
        "YSQS",
        "individual_income 35%, vehicle_vessel 25%, property 20%, land_use 10%, "
        "business 10%; period_end a month end; amount log-normal (median 2,000 CNY); "
        "unpaid with probability logistic(−1.5 − 0.8·propensity), otherwise paid after "
        "a median 120 days",
    ),
    EventRate(
        "utilities",
        "utility_arrears",
        1_500_000,
        "heads",
        18,
        100,
        -0.8,
        0.7,
        "YSDQ",
        "electricity 40%, water 35%, gas 25% (the household head is the account "
        "holder); bill due on the 15th of the next month; unpaid with probability "
        "logistic(−2.5 − 0.8·propensity), otherwise paid after a median 25 days",
    ),
    EventRate(
        "volunteer_platform",
        "volunteer_service",
        2_500_000,
        "everyone",
        14,
        80,
        1.0,
        0.25,
        "YZY",
        "hours 1–8 in half hours (median 2); seven activities",
    ),
    EventRate(
        "blood_centre",
        "blood_donations",
        150_000,
        "everyone",
        18,
        60,
        0.7,
        0.3,
        "YXX",
        "whole_blood 85% (200/300/400 ml), platelets 15% (200/400 ml equivalent); "
        "never the blood type",
    ),
    EventRate(
        "charity_federation",
        "charitable_donations",
        500_000,
        "everyone",
        18,
        100,
        0.8,
        0.4,
        "YCS",
        "amount log-normal (median 200 CNY, heavy tail); six causes",
    ),
    EventRate(
        "civilisation_office",
        "honors_awards",
        50_000,
        "everyone",
        18,
        100,
        1.3,
        0.5,
        "YWM",
        "civilised_household 30%, most_beautiful_family 25%, good_person 25%, "
        "moral_model 12%, model_worker 8%; level village 45% / town 30% / city 17% / "
        "province 6% / national 2%; revoked with probability 1% × exp(−propensity)",
    ),
    EventRate(
        "public_security",
        "good_samaritan_acts",
        5_000,
        "everyone",
        16,
        75,
        1.0,
        1.0,
        "YJYYW",
        "rescue 40%, traffic_aid 25%, stopping_crime 20%, disaster_aid 15%; "
        "recognised by town 50% / city 35% / province 12% / national 3%",
    ),
)


def event_rate(provider: str, table: str) -> EventRate:
    """The declared rate of one stream; KeyError for a structural table or unknown stream."""
    for rate in EVENT_RATES:
        if (rate.provider, rate.table) == (provider, table):
            return rate
    raise KeyError((provider, table))


@dataclass(frozen=True)
class StructuralRate:
    """A table whose rows follow from the world's structure rather than from event rates."""

    provider: str
    table: str
    rows: int
    values: str


STRUCTURAL_RATES: tuple[StructuralRate, ...] = (
    StructuralRate(
        "public_security",
        "residents",
        850_000,
        "one row per resident; households of 1–6 people (17/31/25/15/8/4%, mean "
        "2.78) of head, spouse, child, parent, sibling, grandchild or relative; ages "
        "from the head's (normal, mean 52, sd 14, 20–95); 72% of heads are men; "
        "registered at birth (70% of those born since 1985) or on a later move",
    ),
    StructuralRate(
        "hrss",
        "social_insurance",
        5_000_000,
        "one record per insured person (83%) and year 2017–2026 while aged 18–59: "
        "employee_pension for employees (55% of 18–59), else resident_pension, and "
        "for 20% of employees also unemployment; 12 months due (10 in 2026); a "
        "shortfall with probability logistic(−3.5 − propensity) for employees, "
        "logistic(−2.0 − propensity) for residents",
    ),
    StructuralRate(
        "banks",
        "loan_repayments",
        6_000_000,
        "monthly instalments due in the window of household loans: 30% of heads "
        "aged 28–70 borrow (lift exp(0.3·propensity)), 1 + Poisson(2.5) loans each, "
        "terms 12/24/36/60 months, principal log-normal (median 100,000 CNY), "
        "0.45% a month; a loan defaults (an instalment 90+ days overdue) with "
        "probability logistic(−3.6 − 1.3·propensity)",
    ),
)


def expected_rows(provider: str, table: str) -> int:
    """Expected rows of a stream at scale 1.0 (event or structural)."""
    rates: tuple[EventRate | StructuralRate, ...] = (*EVENT_RATES, *STRUCTURAL_RATES)
    for rate in rates:
        if (rate.provider, rate.table) == (provider, table):
            return rate.rows
    raise KeyError((provider, table))
