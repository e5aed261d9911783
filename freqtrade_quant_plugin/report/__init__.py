"""`freqtrade-quant report`: what each regime, pair and cost did to the results.

Loading (trade DB or backtest result) turns Freqtrade's trades and the plugin's SPEC 8
records into one trade table (`trades.py`); `aggregate.py` computes every figure from it
with pandas only; `tables.py` prints them like Freqtrade's own reports and `html.py`
draws them with plotly.
"""
