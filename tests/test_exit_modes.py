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
    if current:
        assert (level - current) * sign > 0


def test_no_plugin_stop_leaves_the_users_answer_untouched():
    for user in (None, -0.03):
        assert (
            tighter_stoploss(user, None, rate=100, leverage=1, is_short=False, current_stop=90)
            == user
        )
