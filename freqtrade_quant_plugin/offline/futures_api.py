"""USD-M futures endpoints: premium index (mark price, funding) and funding history."""

from __future__ import annotations

import numpy as np

from freqtrade_quant_plugin.offline.api_base import FUTURES, MarketData, num
from freqtrade_quant_plugin.offline.candles import OPEN
from freqtrade_quant_plugin.offline.datadir import Instrument, timeframe_ms
from freqtrade_quant_plugin.offline.params import Query, limit, param, time_range

FUNDING_LIMITS = (100, 1000)
FUNDING_PERIOD_MS = 8 * 3_600_000


class FuturesEndpoints(MarketData):
    """Answers from the stored mark-price and funding-rate files of each perpetual."""

    def _funding(self, instrument: Instrument):
        stored = instrument.timeframes("funding_rate")
        if not stored:
            return None
        return self.store.candles(instrument, "funding_rate", min(stored, key=timeframe_ms))

    def _mark_price(self, instrument: Instrument, at_stored_ms: int) -> float | None:
        """Open of the finest mark candle whose file covers the instant (None if none does)."""
        for timeframe in sorted(instrument.timeframes("mark"), key=timeframe_ms):
            candles = self.store.candles(instrument, "mark", timeframe)
            index = int(np.searchsorted(candles.open_ms, at_stored_ms, side="right")) - 1
            if index >= 0 and at_stored_ms < candles.open_ms[index] + candles.timeframe_ms:
                return float(candles.values[index, OPEN])
        return None

    def _premium_index(self, query: Query) -> object:
        answers = []
        for instrument, quote, close_ms in self._quotable(self._selected(query, FUTURES), FUTURES):
            precision = self.precision(instrument, FUTURES)
            mark = self._mark_price(instrument, close_ms)
            mark = quote.last if mark is None else mark
            funding = self._funding(instrument)
            rate = 0.0
            if funding is not None:
                index = int(np.searchsorted(funding.open_ms, close_ms, side="right")) - 1
                rate = float(funding.values[index, OPEN]) if index >= 0 else 0.0
            public_now = self._public(close_ms)
            next_funding = (public_now // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS
            price = np.format_float_positional(mark, precision=precision.price_decimals + 2)
            answers.append(
                {
                    "symbol": instrument.symbol,
                    "markPrice": price,
                    "indexPrice": price,
                    "estimatedSettlePrice": price,
                    "lastFundingRate": num(rate),
                    "interestRate": "0.00010000",
                    "nextFundingTime": next_funding,
                    "time": public_now,
                }
            )
        return answers[0] if param(query, "symbol") else answers

    def _funding_rate(self, query: Query) -> list:
        public_start, public_end = time_range(query)
        start, end = self._stored(public_start), self._stored(public_end)
        count = limit(query, *FUNDING_LIMITS)
        history = []
        for instrument in self._selected(query, FUTURES):
            funding = self._funding(instrument)
            if funding is None:
                continue
            times, values = self.store.select(funding, start, end, count)
            for stored_ms, rate in zip(times.tolist(), values[:, OPEN].tolist(), strict=True):
                mark = self._mark_price(instrument, stored_ms)
                history.append(
                    {
                        "symbol": instrument.symbol,
                        "fundingTime": self._public(stored_ms),
                        "fundingRate": num(rate),
                        "markPrice": "" if mark is None else num(mark),
                    }
                )
        history.sort(key=lambda item: item["fundingTime"])
        return history[:count] if start is not None else history[-count:]
