"""AAPOR outcome rates: response, cooperation, refusal and contact rates of a campaign.

The American Association for Public Opinion Research's *Standard Definitions* (10th edition,
2023) classify every sampled case by its final disposition and define the rates from the
counts:

=====  ======================================================================
``I``  complete interview
``P``  partial interview
``R``  refusal and break-off
``NC`` non-contact
``O``  other eligible non-interview
``UH`` unknown if household/occupied (unknown eligibility, no contact at all)
``UO`` unknown eligibility, other
``NE`` not eligible (used only to estimate ``e``)
=====  ======================================================================

and ``e``, the estimated proportion of cases of unknown eligibility that are eligible.

Mapping barometre's invitation dispositions
--------------------------------------------
barometre samples named customers from the centre's own customer base. AAPOR's table for
*Internet surveys of specifically named persons* puts a case from which "nothing ever
returned", an undeliverable invitation and an invitation never sent under *unknown
eligibility* (3.19, 3.3x, 3.11), because in general one does not know whether the named person
still belongs to the target population. Here the target population *is* the customer base:
each sampled unit is a known customer, drawn from a frame that defines eligibility, and a
customer found not to belong (no longer a customer) is recorded as ``ineligible``. AAPOR asks
that ``e`` rest on the best available evidence; the frame is that evidence, so barometre
classifies the cases it could not reach as *eligible non-contacts* (``NC``), and
``UH = UO = 0``. Hence RR3 = RR1 and RR4 = RR2, the conservative choice (no case is removed
from a denominator by an estimated ``e``). :data:`DISPOSITION_TO_AAPOR` holds this mapping:

============  ====  ==============================================================
``complete``  I     1.1 complete
``partial``   P     1.2 partial: started, not finished (see below)
``opted_out`` R     2.11 refusal: the customer unsubscribed or declined
``delivered`` NC    eligible, delivery confirmed but nothing came back
``sent``      NC    eligible, accepted by the provider, nothing came back
``bounced``   NC    eligible, the address or number is undeliverable
``failed``    NC    eligible, the invitation could not be sent (invalid contact)
``pending``   NC    eligible, never invited (should not remain at the end of fieldwork)
``ineligible`` NE   4.x not eligible (outside the target population)
============  ====  ==============================================================

A delivered invitation is not a contact (nobody knows that the customer read it), hence
``NC`` rather than ``R`` or ``O``. ``partial`` counts as ``P``; a campaign that declares a
sufficiency threshold should pass insufficient break-offs as ``R`` through its own mapping.

:data:`DISPOSITION_TO_AAPOR_NAMED_PERSONS` is the literal reading of AAPOR's internet table
(``sent``, ``delivered``, ``bounced``, ``failed`` and ``pending`` as ``UO``), for an auditor
who prefers RR3 with an estimated ``e``; pass it as ``mapping``.

References
----------
The American Association for Public Opinion Research (2023). *Standard Definitions: Final
Dispositions of Case Codes and Outcome Rates for Surveys*, 10th edition. AAPOR.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType

import pandas as pd

from analysis.design import AnalysisInputError

AAPOR_CODES: tuple[str, ...] = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")

DISPOSITIONS: tuple[str, ...] = (
    "pending",
    "sent",
    "delivered",
    "bounced",
    "failed",
    "opted_out",
    "partial",
    "complete",
    "ineligible",
)

#: barometre's dispositions to AAPOR codes: every sampled customer is eligible unless shown
#: not to be (see the module's docstring for why).
DISPOSITION_TO_AAPOR: Mapping[str, str] = MappingProxyType(
    {
        "complete": "I",
        "partial": "P",
        "opted_out": "R",
        "delivered": "NC",
        "sent": "NC",
        "bounced": "NC",
        "failed": "NC",
        "pending": "NC",
        "ineligible": "NE",
    }
)

#: AAPOR's internet table for named persons read literally: no answer means unknown
#: eligibility.
DISPOSITION_TO_AAPOR_NAMED_PERSONS: Mapping[str, str] = MappingProxyType(
    {
        **DISPOSITION_TO_AAPOR,
        "delivered": "UO",
        "sent": "UO",
        "bounced": "UO",
        "failed": "UO",
        "pending": "UO",
    }
)


@dataclass(frozen=True)
class OutcomeRates:
    """AAPOR outcome rates of one campaign (or one stratum), with the counts behind them.

    A rate whose denominator is zero is ``nan``.

    Attributes
    ----------
    complete, partial, refusal, non_contact, other, unknown_household, unknown_other, \
not_eligible : int
        The counts ``I, P, R, NC, O, UH, UO, NE``.
    e : float
        The proportion of unknown-eligibility cases taken as eligible, given or estimated.
    rr1 ... rr6, coop1 ... coop4, ref1 ... ref3, con1 ... con3 : float
        The rates, formulas in :func:`outcome_rates`.
    """

    complete: int
    partial: int
    refusal: int
    non_contact: int
    other: int
    unknown_household: int
    unknown_other: int
    not_eligible: int
    e: float
    rr1: float
    rr2: float
    rr3: float
    rr4: float
    rr5: float
    rr6: float
    coop1: float
    coop2: float
    coop3: float
    coop4: float
    ref1: float
    ref2: float
    ref3: float
    con1: float
    con2: float
    con3: float

    def as_dict(self) -> dict[str, float]:
        """The counts, ``e`` and the rates, ``nan`` turned into None (JSON has no NaN)."""
        return {
            key: None if isinstance(value, float) and math.isnan(value) else value
            for key, value in asdict(self).items()
        }


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def estimate_e(counts: Mapping[str, int]) -> float:
    """Proportion eligible among the cases whose eligibility is known.

    .. math::

        \\hat e = \\frac{I + P + R + NC + O}{I + P + R + NC + O + NE}

    AAPOR's most common default estimate of ``e`` (Standard Definitions, 10th ed., on
    estimating ``e``).

    Parameters
    ----------
    counts : Mapping[str, int]
        Counts by AAPOR code; absent codes count 0.

    Returns
    -------
    float

    Raises
    ------
    AnalysisInputError
        When no case has a known eligibility.
    """
    c = _check_counts(counts)
    eligible = c["I"] + c["P"] + c["R"] + c["NC"] + c["O"]
    known = eligible + c["NE"]
    if known == 0:
        raise AnalysisInputError(
            "cannot estimate e: no case of known eligibility (I, P, R, NC, O or NE); give e"
        )
    return eligible / known


def outcome_rates(counts: Mapping[str, int], e: float | None = None) -> OutcomeRates:
    """AAPOR response, cooperation, refusal and contact rates from disposition counts.

    With ``U = UH + UO``:

    .. math::

        RR1 &= I / ((I+P) + (R+NC+O) + U)          & RR2 &= (I+P) / ((I+P) + (R+NC+O) + U) \\\\
        RR3 &= I / ((I+P) + (R+NC+O) + eU)         & RR4 &= (I+P) / ((I+P) + (R+NC+O) + eU) \\\\
        RR5 &= I / ((I+P) + (R+NC+O))              & RR6 &= (I+P) / ((I+P) + (R+NC+O)) \\\\
        COOP1 &= I / ((I+P) + R + O)               & COOP2 &= (I+P) / ((I+P) + R + O) \\\\
        COOP3 &= I / ((I+P) + R)                   & COOP4 &= (I+P) / ((I+P) + R) \\\\
        REF1 &= R / ((I+P) + (R+NC+O) + U)         & REF2 &= R / ((I+P) + (R+NC+O) + eU) \\\\
        REF3 &= R / ((I+P) + (R+NC+O))             & & \\\\
        CON1 &= ((I+P)+R+O) / ((I+P)+R+O+NC+U)     & CON2 &= ((I+P)+R+O) / ((I+P)+R+O+NC+eU) \\\\
        CON3 &= ((I+P)+R+O) / ((I+P)+R+O+NC)       & &

    Parameters
    ----------
    counts : Mapping[str, int]
        Counts keyed by AAPOR code: ``I, P, R, NC, O, UH, UO`` and ``NE`` (absent codes count
        0; ``NE`` serves only to estimate ``e``).
    e : float, optional
        Proportion of unknown-eligibility cases that are eligible, in [0, 1]. Estimated by
        :func:`estimate_e` when None and there are such cases (1 when there are none, where
        it does not matter).

    Returns
    -------
    OutcomeRates

    References
    ----------
    AAPOR (2023), *Standard Definitions*, 10th ed., "Calculating Rates": response rates,
    cooperation rates, refusal rates and contact rates.
    """
    c = _check_counts(counts)
    if sum(c.values()) == 0:
        raise AnalysisInputError("no cases: every disposition count is 0")
    unknown = c["UH"] + c["UO"]
    if e is None:
        e = estimate_e(c) if unknown > 0 else 1.0
    elif isinstance(e, bool) or not isinstance(e, numbers.Real) or not 0 <= e <= 1:
        raise AnalysisInputError(f"e must be a number in [0, 1], got {e!r}")
    e = float(e)

    interviews = c["I"] + c["P"]
    eligible_non_interviews = c["R"] + c["NC"] + c["O"]
    known_eligible = interviews + eligible_non_interviews
    contacted = interviews + c["R"] + c["O"]
    return OutcomeRates(
        complete=c["I"],
        partial=c["P"],
        refusal=c["R"],
        non_contact=c["NC"],
        other=c["O"],
        unknown_household=c["UH"],
        unknown_other=c["UO"],
        not_eligible=c["NE"],
        e=e,
        rr1=_ratio(c["I"], known_eligible + unknown),
        rr2=_ratio(interviews, known_eligible + unknown),
        rr3=_ratio(c["I"], known_eligible + e * unknown),
        rr4=_ratio(interviews, known_eligible + e * unknown),
        rr5=_ratio(c["I"], known_eligible),
        rr6=_ratio(interviews, known_eligible),
        coop1=_ratio(c["I"], interviews + c["R"] + c["O"]),
        coop2=_ratio(interviews, interviews + c["R"] + c["O"]),
        coop3=_ratio(c["I"], interviews + c["R"]),
        coop4=_ratio(interviews, interviews + c["R"]),
        ref1=_ratio(c["R"], known_eligible + unknown),
        ref2=_ratio(c["R"], known_eligible + e * unknown),
        ref3=_ratio(c["R"], known_eligible),
        con1=_ratio(contacted, contacted + c["NC"] + unknown),
        con2=_ratio(contacted, contacted + c["NC"] + e * unknown),
        con3=_ratio(contacted, contacted + c["NC"]),
    )


def aapor_counts(
    dispositions: Iterable[str] | pd.Series,
    mapping: Mapping[str, str] = DISPOSITION_TO_AAPOR,
) -> dict[str, int]:
    """Count barometre dispositions by AAPOR code.

    Parameters
    ----------
    dispositions : iterable of str or pandas.Series
        One final disposition per sampled invitation (test invitations excluded).
    mapping : Mapping[str, str]
        Disposition to AAPOR code; :data:`DISPOSITION_TO_AAPOR` by default.

    Returns
    -------
    dict[str, int]
        Every AAPOR code, with 0 for those absent.

    Raises
    ------
    AnalysisInputError
        On a missing or unknown disposition, with its position (or index label).
    """
    bad_codes = sorted({code for code in mapping.values() if code not in AAPOR_CODES})
    if bad_codes:
        raise AnalysisInputError(f"mapping uses unknown AAPOR codes {bad_codes}; use {AAPOR_CODES}")
    labelled = (
        dispositions.items() if isinstance(dispositions, pd.Series) else enumerate(dispositions)
    )
    tally: Counter[str] = Counter()
    for label, disposition in labelled:
        if not isinstance(disposition, str) and pd.isna(disposition):
            raise AnalysisInputError(f"disposition at {label!r} is missing")
        if not isinstance(disposition, str) or disposition not in mapping:
            raise AnalysisInputError(
                f"disposition at {label!r} is {disposition!r}, not one of {sorted(mapping)}"
            )
        tally[mapping[disposition]] += 1
    return {code: tally[code] for code in AAPOR_CODES}


def rates_from_dispositions(
    dispositions: Iterable[str] | pd.Series,
    e: float | None = None,
    mapping: Mapping[str, str] = DISPOSITION_TO_AAPOR,
) -> OutcomeRates:
    """AAPOR outcome rates of a list of barometre invitation dispositions.

    Parameters
    ----------
    dispositions : iterable of str or pandas.Series
        One final disposition per sampled invitation, among :data:`DISPOSITIONS`.
    e : float, optional
        See :func:`outcome_rates`.
    mapping : Mapping[str, str]
        Disposition to AAPOR code; :data:`DISPOSITION_TO_AAPOR` (every customer of the frame
        eligible) by default, :data:`DISPOSITION_TO_AAPOR_NAMED_PERSONS` for AAPOR's literal
        internet table.

    Returns
    -------
    OutcomeRates
    """
    return outcome_rates(aapor_counts(dispositions, mapping), e)


def _check_counts(counts: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(counts, Mapping):
        raise AnalysisInputError(f"counts must be a mapping of AAPOR code to count, got {counts!r}")
    unknown = sorted(str(code) for code in counts if code not in AAPOR_CODES)
    if unknown:
        raise AnalysisInputError(f"unknown AAPOR codes {unknown}; expected some of {AAPOR_CODES}")
    checked = {}
    for code in AAPOR_CODES:
        count = counts.get(code, 0)
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise AnalysisInputError(f"count of {code} must be an integer >= 0, got {count!r}")
        checked[code] = int(count)
    return checked
