"""`freqtrade-quant report`: what each regime, pair and cost did to the results.

- load_db.py / load_backtest.py: Freqtrade's trades and the plugin's trade records, from
  the trade DB (read-only) or a backtest result with its `.quant.json`, as one trade table
  (trades.py) in a ReportSource (source.py); config_files.py reads Freqtrade configs;
- aggregate.py (pure pandas) and pair_state.py (the core's SymbolPerformanceManager) compute
  every figure; build.py gathers them in a Report, which also gives the JSON;
- tables.py prints them like Freqtrade's own reports; charts.py and html.py draw them.
"""
