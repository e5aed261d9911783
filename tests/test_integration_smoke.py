"""The original design guide's integration smoke test; only its imports are changed."""

from freqtrade_quant_plugin import (
    CostModel,
    RegimeDetector,
    SymbolPerformanceManager,
    enrich_trade_entry,
    enrich_trade_exit,
    get_exit_params,
)


def test_full_trade_workflow():
    """Test complete trade workflow with all modules."""

    # Setup
    regime_detector = RegimeDetector()
    cost_model = CostModel()
    symbol_perf = SymbolPerformanceManager(persistence_file=None)

    indicators = {"atr": 1000.0, "atr_14": 1000.0, "atr_100": 800.0, "adx": 25.0, "roc": 0.02}

    # Step 1: Detect regime
    regime = regime_detector.detect_regime(indicators)
    assert regime.regime in ["LOW_VOL", "NORMAL_VOL", "HIGH_VOL"]

    # Step 2: Check symbol status
    assert symbol_perf.should_trade_symbol("BTCUSDT") is True
    risk_modifier = symbol_perf.get_risk_modifier("BTCUSDT")
    assert risk_modifier == 1.0  # No history yet

    # Step 3: Get regime-specific exit params
    params = get_exit_params(regime.regime)
    assert params.k1_SL > 0
    assert params.k2_TP > params.k1_SL

    # Step 4: Calculate costs
    cost = cost_model.estimate_cost(entry_price=50000.0, exit_price=52000.0, size=0.1, atr=1000.0)
    assert cost.total_cost > 0
    assert cost.cost_in_R < 0.2  # Should be reasonable

    # Step 5: Enrich entry
    entry = enrich_trade_entry(
        symbol="BTCUSDT",
        action="LONG",
        entry_price=50000.0,
        quantity=0.1,
        stop_loss=48000.0,
        take_profit=52000.0,
        atr=1000.0,
        confidence=0.75,
        consensus="STRONG",
        regime=regime.regime,
    )
    assert entry["risk_reward_ratio"] == 1.0
    assert entry["regime_at_entry"] == regime.regime

    # Step 6: Enrich exit
    exit_data = enrich_trade_exit(
        trade_entry=entry,
        exit_price=52000.0,
        exit_reason="TP_HIT",
        pnl_dollars=200.0,
        fees_estimate=3.0,
        slippage_estimate=2.0,
    )
    assert exit_data["R_multiple"] == 1.0
    assert exit_data["was_winner"] is True

    # Step 7: Update performance
    symbol_perf.update_stats("BTCUSDT", 200.0, 1.0, True)
    stats = symbol_perf.get_stats("BTCUSDT")
    assert stats.wins == 1
    assert stats.win_rate == 1.0
