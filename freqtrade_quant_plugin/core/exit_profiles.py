"""Named exit tables (`quant.exit_policy.profile`): the guide's, and trend-free ones.

- "guide": the original design's table. NORMAL_VOL 1.5/3.0 and HIGH_VOL 2.0/4.0 ATR are the
  guide's k1/k2; the guide gives no other values, so the other rows are this plugin's first
  defaults. TRENDING and RANGING get their own rules (trailing and a far target in a trend,
  a near target in a range).
- "volatility": the rules follow the volatility label only. The combined regime shows
  TRENDING or RANGING only for LOW_VOL or NORMAL_VOL candles (HIGH_VOL and EXTREME_VOL take
  precedence, see core/regime.py) and does not say which of the two, so LOW_VOL, NORMAL_VOL,
  TRENDING and RANGING all take the guide's NORMAL_VOL row; HIGH_VOL and EXTREME_VOL keep
  the guide's rows. An entry's trend label then changes nothing that its volatility label
  does not already decide. No trailing (the guide trails only in TRENDING).
- "static": every regime takes the guide's NORMAL_VOL stop, target and time limit, without
  breakeven or trailing: the exits of the static twin (every regime layer off).

Why the trend-free tables exist: on the shared real data the trend label does not predict
continuation on held-out months (docs/evidence.md, the trend study), so exits that differ
by it cannot be expected to help. Which table is the default, and why, is in docs/exits.md
and docs/evidence.md with the walk-forward evidence of bench/defaults_walk_forward.py.
"""

from __future__ import annotations

import dataclasses

from freqtrade_quant_plugin.core.exit_params import ExitParams
from freqtrade_quant_plugin.core.regime_config import (
    EXTREME_VOL,
    HIGH_VOL,
    LOW_VOL,
    NORMAL_VOL,
    RANGING,
    REGIMES,
    TRENDING,
)

GUIDE = "guide"
VOLATILITY = "volatility"
STATIC = "static"
DEFAULT_PROFILE = STATIC

GUIDE_EXIT_PARAMS: dict[str, ExitParams] = {
    params.regime: params
    for params in (
        ExitParams(
            regime=LOW_VOL,
            description="Low volatility: tight stop, modest target, patient holding",
            k1_SL=1.0,
            k2_TP=2.0,
            breakeven_R=0.5,
            trailing_enabled=False,
            trailing_activation_R=1.0,
            trailing_distance_atr=1.0,
            max_duration_hours=48.0,
        ),
        ExitParams(
            regime=NORMAL_VOL,
            description="Normal volatility: balanced 1.5 ATR stop and 2:1 target",
            k1_SL=1.5,
            k2_TP=3.0,
            breakeven_R=1.0,
            trailing_enabled=False,
            trailing_activation_R=1.5,
            trailing_distance_atr=1.5,
            max_duration_hours=24.0,
        ),
        ExitParams(
            regime=HIGH_VOL,
            description="High volatility: wider stop against noise, 2:1 target",
            k1_SL=2.0,
            k2_TP=4.0,
            breakeven_R=1.0,
            trailing_enabled=False,
            trailing_activation_R=2.0,
            trailing_distance_atr=2.0,
            max_duration_hours=12.0,
        ),
        ExitParams(
            regime=EXTREME_VOL,
            description="Extreme volatility: widest stop, quick exit before conditions turn",
            k1_SL=3.0,
            k2_TP=5.0,
            breakeven_R=0.75,
            trailing_enabled=False,
            trailing_activation_R=1.5,
            trailing_distance_atr=2.5,
            max_duration_hours=6.0,
        ),
        ExitParams(
            regime=TRENDING,
            description="Trending: let winners run with a trailing stop and a far target",
            k1_SL=2.0,
            k2_TP=6.0,
            breakeven_R=1.0,
            trailing_enabled=True,
            trailing_activation_R=1.5,
            trailing_distance_atr=2.0,
            max_duration_hours=72.0,
        ),
        ExitParams(
            regime=RANGING,
            description="Ranging: take profit near the range edge, do not overstay",
            k1_SL=1.5,
            k2_TP=2.0,
            breakeven_R=0.5,
            trailing_enabled=False,
            trailing_activation_R=1.0,
            trailing_distance_atr=1.0,
            max_duration_hours=12.0,
        ),
    )
}


def _row_as(source: ExitParams, regime: str, description: str, **changes: object) -> ExitParams:
    return dataclasses.replace(source, regime=regime, description=description, **changes)


def _volatility_table() -> dict[str, ExitParams]:
    normal = GUIDE_EXIT_PARAMS[NORMAL_VOL]
    table = {}
    for regime in REGIMES:
        if regime in (HIGH_VOL, EXTREME_VOL):
            table[regime] = GUIDE_EXIT_PARAMS[regime]
        else:
            note = "NORMAL_VOL's rules: neither a trend label nor low volatility changes them"
            table[regime] = _row_as(normal, regime, f"{regime}: {note}")
    return table


def _static_table() -> dict[str, ExitParams]:
    normal = GUIDE_EXIT_PARAMS[NORMAL_VOL]
    note = "NORMAL_VOL's stop, target and time limit, no breakeven or trailing"
    return {
        regime: _row_as(normal, regime, f"{regime}: {note}", breakeven_enabled=False)
        for regime in REGIMES
    }


PROFILES: dict[str, dict[str, ExitParams]] = {
    GUIDE: GUIDE_EXIT_PARAMS,
    VOLATILITY: _volatility_table(),
    STATIC: _static_table(),
}
