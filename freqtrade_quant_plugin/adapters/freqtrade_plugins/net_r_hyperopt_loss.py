"""NetRHyperOptLoss: optimise for net R after the plugin's modelled costs.

    freqtrade hyperopt --strategy QuantRegimeStrategy --hyperopt-loss NetRHyperOptLoss ...

Plain `freqtrade` finds it through the plugin's registration hook (this folder is on the
hyperopt-loss resolver's search path). The loss is -(SQN of the trades' net R - 0.1 x the
drawdown of cumulative net R in R); see core/net_r_score.py for the formula and
adapters/records/net_r_trades.py for where each trade's net R comes from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from freqtrade.constants import Config
from freqtrade.optimize.hyperopt_loss.hyperopt_loss_interface import IHyperOptLoss
from pandas import DataFrame

from freqtrade_quant_plugin.adapters.records.net_r_trades import net_r_of_trades
from freqtrade_quant_plugin.core.net_r_score import net_r_score


class NetRHyperOptLoss(IHyperOptLoss):
    """Lower is better: minus the net-R SQN, plus 0.1 per R of drawdown."""

    @staticmethod
    def hyperopt_loss_function(
        *,
        results: DataFrame,
        trade_count: int,
        min_date: datetime,
        max_date: datetime,
        config: Config,
        processed: dict[str, DataFrame],
        backtest_stats: dict[str, Any],
        starting_balance: float,
        **kwargs: Any,
    ) -> float:
        return net_r_score(net_r_of_trades(results, str(config["strategy"]))).loss
