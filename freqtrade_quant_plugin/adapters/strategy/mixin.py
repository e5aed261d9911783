"""`QuantMixin` and `QuantStrategy`: the plugin inside a Freqtrade strategy.

`class MyStrategyQuant(QuantMixin, MyStrategy): pass` adds the plugin to any strategy;
`QuantStrategy` is QuantMixin for strategies written for the plugin (`quant.exits.mode`
replace, its columns under their bare names). One code path: this module holds the
settings and state a strategy object starts with; the layers live beside it, one folder each
(adapters/strategy/):

- `compose/`: every Freqtrade callback runs the plugin's part with the user's (an override
  below the plugin is wrapped at class creation); settings, hyperopt parameters, the
  plugin's columns and recorded candles (`indicators.py`), start-up, run state and each
  loop's pair state (`runs.py`), start-up checks of the exit mode;
- `sizing/`: `custom_stake_amount` (risk size, regime multipliers, pair risk modifier, cost
  gate, dust, exchange minimum; never above the user's stake), `leverage`, paper terms;
- `gates/`: the stop an entry is sized to in each exit mode, and the entries refused inside
  the strategy (disabled pairs, stale candles);
- `exits/`: `custom_stoploss` (initial ATR stop set on the entry fill, breakeven, trailing),
  `custom_exit` (take_profit, max_duration), `custom_exit_price`, composed with the user's
  exits by mode; passed stops; lost entry state;
- `fills/`: the entry state and trade record of every fill (adds and partial exits
  included), one record per trade at its final exit (adapters/records/).

Every layer follows the switches of `quant.layers` (core/layers.py) through
`stop_rules`, `sizing_risk_config`, `pair_risk_modifier` and the cost-gate flag, for real
entries and paper trades alike; a subclass can declare layers it always runs without
(`quant_layers_off`, e.g. the static twin). Decisions are counted for the backtest
summary (`entry_summary`).

Exit reasons in the trade records: take_profit, max_duration, stop_loss (initial stop),
breakeven_stop and trailing_stop (Freqtrade reports both as trailing_stop_loss), or
Freqtrade's own reason (force_exit, liquidation, ...); `freqtrade_exit_reason` keeps
Freqtrade's.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from typing import Any, ClassVar

from freqtrade.exceptions import OperationalException
from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.records.entry_summary import EntrySummary
from freqtrade_quant_plugin.adapters.records.trade_state import TradeStateCache
from freqtrade_quant_plugin.adapters.signal_rows import SignalTable
from freqtrade_quant_plugin.adapters.strategy.compose.callbacks import ComposedCallbacks
from freqtrade_quant_plugin.adapters.strategy.compose.exit_mode import (
    apply_exit_mode,
    raise_startup_candles,
)
from freqtrade_quant_plugin.adapters.strategy.compose.guarded import (
    accepts,
    mark_layer,
    shadowing_order,
    user_definition,
)
from freqtrade_quant_plugin.adapters.strategy.compose.indicators import PluginIndicators
from freqtrade_quant_plugin.adapters.strategy.compose.parameters import (
    Tunable,
    explicit_setting_paths,
)
from freqtrade_quant_plugin.adapters.strategy.compose.runs import RunLifecycle
from freqtrade_quant_plugin.adapters.strategy.compose.settings_layer import SettingsLayer
from freqtrade_quant_plugin.adapters.strategy.exits.exit_callbacks import ExitCallbacks
from freqtrade_quant_plugin.adapters.strategy.exits.live_stops import PassedStops
from freqtrade_quant_plugin.adapters.strategy.exits.state_recovery import StateRecovery
from freqtrade_quant_plugin.adapters.strategy.fills.fill_records import FillRecords
from freqtrade_quant_plugin.adapters.strategy.fills.position_adds import PositionAdds
from freqtrade_quant_plugin.adapters.strategy.gates.entry_gates import LayerTerms
from freqtrade_quant_plugin.adapters.strategy.sizing.entry_sizing import EntrySizing, _PendingEntry
from freqtrade_quant_plugin.adapters.strategy.sizing.paper_terms import PaperTermsLayer
from freqtrade_quant_plugin.core.costs import CostConfig, CostModel
from freqtrade_quant_plugin.core.exit_modes import NONE, REPLACE
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.validation import QuantConfigError

# The plugin's layers, in QuantMixin's base order (after ComposedCallbacks, which composes
# them with the user's callbacks); each is marked so the composition can tell them apart.
_LAYERS = (
    RunLifecycle,
    PluginIndicators,
    SettingsLayer,
    PaperTermsLayer,
    LayerTerms,
    PositionAdds,
    FillRecords,
    ExitCallbacks,
    EntrySizing,
)
for _layer in _LAYERS:
    mark_layer(_layer)


# The layer mixins subclass IStrategy, not object: Freqtrade's hyperopt registers the module of
# every base class up to IStrategy to be pickled by value, and reaching `object` would register
# builtins (endless recursion when the strategy is sent to the `-j` workers).
class QuantMixin(ComposedCallbacks, *_LAYERS, IStrategy, quant_layer=True):
    """The plugin, added to any strategy: `class MyStrategyQuant(QuantMixin, MyStrategy): pass`.

    Sizing, gates and records by default (`quant.exits.mode` none); the user's indicators,
    signals, stake, exits and callbacks stay in force (adapters/strategy/).
    """

    # What `quant.exits.mode` is when the settings do not say (core/exit_modes.py).
    quant_exits_default: ClassVar[str] = NONE
    # Prefix of the plugin's columns in the analysed frame: a strategy written without the
    # plugin may have its own `atr` or `regime`, which the plugin must not overwrite.
    quant_column_prefix: ClassVar[str] = "quant_"
    # A strategy that does not know the plugin gets the startup candles the detector needs;
    # a plugin strategy (QuantStrategy) declares them and is refused when they are too few.
    quant_raise_startup: ClassVar[bool] = True
    # Futures leverage wanted when the strategy's own `leverage()` does not say.
    target_leverage: float = 1.0
    # Hyperopt parameters that stand for settings: attribute name -> setting path
    # (see adapters/strategy/compose/parameters.py for the precedence).
    quant_parameters: ClassVar[dict[str, str]] = {}
    # Layers (core/layers.py) this strategy always runs without, e.g. the static twin's
    # REGIME_LAYERS. They stay off whatever the settings say; settings can turn more off.
    quant_layers_off: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: dict) -> None:
        order = shadowing_order(type(self))
        if order:
            raise OperationalException(order)
        super().__init__(config)
        section = config.get("quant")
        try:
            settings = QuantSettings.load(section, os.environ)
            if self.quant_layers_off:
                layers = settings.layers.without(*self.quant_layers_off)
                settings = dataclasses.replace(settings, layers=layers)
            self.quant_settings = settings
            if self.quant_raise_startup:
                raise_startup_candles(self, config, settings.regime.startup_candles)
            startup = config.get("startup_candle_count", self.startup_candle_count)
            self.quant_settings.check_startup_candles(startup, type(self).__name__)
        except QuantConfigError as error:
            # OperationalException: Freqtrade exits 0 on its own ConfigurationError.
            raise OperationalException(str(error)) from error
        own_stoploss = user_definition(type(self), "custom_stoploss")
        # The user's custom_stoploss runs only where Freqtrade would have run it: the config
        # (applied by Freqtrade after __init__) overrides the class attribute.
        wanted = config.get("use_custom_stoploss", self.use_custom_stoploss)
        self._quant_user_stoploss = bool(wanted) and own_stoploss is not None
        self._quant_user_after_fill = own_stoploss is not None and accepts(
            own_stoploss[1], "after_fill"
        )
        self.quant_exits_mode = settings.exits.resolve(self.quant_exits_default)
        apply_exit_mode(self, self.quant_exits_mode, QuantStrategy)
        self._explicit_paths = explicit_setting_paths(section, os.environ)
        self._warned_overrides: set[str] = set()
        self._effective: dict[str, tuple[tuple[Tunable, ...], QuantSettings]] = {}
        self._cost_models: dict[CostConfig, CostModel] = {}
        self._fee_rates: dict[str, float] = {}
        self._signals = SignalTable()
        self._states = TradeStateCache()
        self._pending: dict[tuple[str, bool], _PendingEntry] = {}
        self._entry_records: dict[int, dict[str, Any]] = {}
        self._last_loop_time: datetime | None = None
        self._passed_stops = PassedStops()
        self.entry_summary = EntrySummary()
        self._recovery = StateRecovery(
            self,
            rules_for=lambda regime: self.stop_rules(regime, self.effective_settings()),
            refill=self._refill_entry,
            use_database=self._is_live,
            candles_cover=lambda trade: self._signals.covers(
                trade.pair, trade.open_date_utc, self._timeframe_seconds
            ),
        )


class QuantStrategy(QuantMixin, quant_layer=True):
    """Base class of strategies written for the plugin: QuantMixin with the plugin's exits
    (`quant.exits.mode` replace by default) and its columns under their bare names."""

    INTERFACE_VERSION = 3
    use_custom_stoploss = True
    # A wide backstop only: the ATR stop replaces it as soon as the entry fills (the
    # after-fill custom_stoploss may set it wider or tighter). Kept wide: it is the stop of
    # a trade whose state waits for candles after a restart, and a later plugin stop can
    # only tighten it. Its cost: Freqtrade's minimum stake reserves 1.5x for it
    # (exchange_facts.static_stoploss_notice).
    stoploss = -0.30
    # Exits come from the regime rules (custom_exit / custom_stoploss), not from ROI.
    minimal_roi: ClassVar[dict[str, float]] = {"0": 100.0}
    trailing_stop = False
    process_only_new_candles = True
    order_types: ClassVar[dict[str, Any]] = {
        "entry": "limit",
        "exit": "limit",
        "stoploss": "market",
        "stoploss_on_exchange": False,
    }
    quant_exits_default: ClassVar[str] = REPLACE
    quant_column_prefix: ClassVar[str] = ""
    quant_raise_startup: ClassVar[bool] = False
