"""core/exit_modes: the composed custom_stoploss answer is never looser than the user's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from freqtrade_quant_plugin.core.exit_modes import stop_level, tighter_stoploss

distances = st.one_of(st.none(), st.floats(min_value=1e-6, max_value=0.9))


@given(
    user=distances,
    plugin=distances,
    rate=st.floats(min_value=0.01, max_value=1e5),
    leverage=st.sampled_from([1.0, 2.0, 5.0]),
    is_short=st.booleans(),
    stop_fraction=st.one_of(st.none(), st.floats(min_value=0.5, max_value=1.5)),
)
def test_the_answer_is_the_users_or_a_tighter_one(
    user, plugin, rate, leverage, is_short, stop_fraction
):
    current = None if stop_fraction is None else rate * stop_fraction
    answer = tighter_stoploss(
        user, plugin, rate=rate, leverage=leverage, is_short=is_short, current_stop=current
    )
    if answer is user:
        return
    assert answer == plugin
    sign = -1.0 if is_short else 1.0
    level = stop_level(plugin, rate, leverage, is_short)
    if user is not None:
        assert (level - stop_level(user, rate, leverage, is_short)) * sign > 0
    if current and user is None:  # only the stop in force to beat
        assert (level - current) * sign > 0


def test_no_plugin_stop_leaves_the_users_answer_untouched():
    for user in (None, -0.03):
        assert (
            tighter_stoploss(user, None, rate=100, leverage=1, is_short=False, current_stop=90)
            == user
        )


def _applied(answer, current, refresh, rate, leverage, is_short):
    """The stop Freqtrade keeps after a custom_stoploss answer (adjust_stop_loss): None keeps
    the stop; an after-fill answer (`refresh`) replaces it either way, else only tightens."""
    if answer is None:
        return current
    level = stop_level(answer, rate, leverage, is_short)
    if current is None or refresh:
        return level
    return min(current, level) if is_short else max(current, level)


@given(
    user=distances,
    plugin=st.floats(min_value=1e-6, max_value=0.9),
    rate=st.floats(min_value=0.01, max_value=1e5),
    leverage=st.sampled_from([1.0, 2.0, 5.0]),
    is_short=st.booleans(),
    stop_fraction=st.floats(min_value=0.5, max_value=0.999),
    refresh=st.booleans(),
)
def test_guard_keeps_the_plugins_stop_and_the_users_stop_in_force(
    user, plugin, rate, leverage, is_short, stop_fraction, refresh
):
    """After Freqtrade applies the answer (after a fill too, where it may lower the stop):
    never looser than the user's strategy alone, and never looser than the plugin's stop."""
    current = rate * (2 - stop_fraction) if is_short else rate * stop_fraction
    answer = tighter_stoploss(
        user, plugin, rate=rate, leverage=leverage, is_short=is_short, current_stop=current
    )
    sign = -1.0 if is_short else 1.0
    ours = _applied(answer, current, refresh, rate, leverage, is_short)
    alone = _applied(user, current, refresh, rate, leverage, is_short)
    assert (ours - alone) * sign >= -1e-9 * rate
    assert (ours - stop_level(plugin, rate, leverage, is_short)) * sign >= -1e-9 * rate


def test_an_after_fill_answer_wider_than_the_stop_in_force_keeps_the_plugins_stop():
    """User: -15 % after the fill (Freqtrade lets it lower the stop); plugin: -8 %; the stop
    in force: -5 %. The plugin's -8 % is the tighter of the two and must be the answer."""
    answer = tighter_stoploss(-0.15, -0.08, rate=100, leverage=1, is_short=False, current_stop=95)
    assert answer == -0.08
