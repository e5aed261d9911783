"""Orders, fills, balances and positions written as Binance writes them (JSON documents)."""

from __future__ import annotations

from freqtrade_quant_plugin.offline.account import AccountState, Fill, Order, Position
from freqtrade_quant_plugin.offline.api_base import SPOT, num
from freqtrade_quant_plugin.offline.settlement import FUTURES_FEES, SPOT_FEE


def order_document(order: Order) -> dict:
    """GET order (spot or USD-M): the fields ccxt's parse_order reads."""
    doc = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "clientOrderId": order.client_id,
        "price": num(order.price),
        "origQty": num(order.quantity),
        "executedQty": num(order.executed),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "stopPrice": num(order.stop_price),
        "time": order.created_ms,
        "updateTime": order.updated_ms or order.created_ms,
    }
    if order.market == SPOT:
        doc.update(
            orderListId=-1,
            cummulativeQuoteQty=num(order.quote_executed),
            icebergQty="0.00000000",
            isWorking=order.type not in ("STOP_LOSS_LIMIT", "STOP_LOSS") or order.triggered,
            workingTime=order.created_ms,
            origQuoteOrderQty="0.00000000",
            selfTradePreventionMode="EXPIRE_MAKER",
        )
    else:
        average = order.quote_executed / order.executed if order.executed else 0.0
        doc.update(
            avgPrice=num(average),
            cumQuote=num(order.quote_executed),
            reduceOnly=order.reduce_only,
            closePosition=False,
            positionSide="BOTH",
            workingType="CONTRACT_PRICE",
            priceProtect=False,
            origType=order.type,
            priceMatch="NONE",
            selfTradePreventionMode="EXPIRE_MAKER",
            goodTillDate=0,
        )
    return doc


def algo_document(order: Order) -> dict:
    """A USD-M conditional (algo) order; `actualOrderId` once it triggered."""
    doc = {
        "algoId": order.order_id,
        "clientAlgoId": order.client_id,
        "algoType": "CONDITIONAL",
        "orderType": order.type,
        "symbol": order.symbol,
        "side": order.side,
        "positionSide": "BOTH",
        "timeInForce": order.time_in_force or "GTC",
        "quantity": num(order.quantity),
        "algoStatus": order.status,
        "triggerPrice": num(order.stop_price),
        "price": num(order.price),
        "icebergQuantity": None,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE",
        "closePosition": False,
        "priceProtect": False,
        "reduceOnly": order.reduce_only,
        "createTime": order.created_ms,
        "updateTime": order.updated_ms or order.created_ms,
        "triggerTime": order.updated_ms if order.triggered else 0,
        "goodTillDate": 0,
    }
    if order.actual_order_id:
        doc["actualOrderId"] = str(order.actual_order_id)
    return doc


def new_order_document(order: Order, fills: list[Fill]) -> dict:
    """POST order answer (spot FULL response: with the fills)."""
    doc = order_document(order)
    doc["transactTime"] = order.created_ms
    if order.market == SPOT:
        doc["fills"] = [
            {
                "price": num(f.price),
                "qty": num(f.quantity),
                "commission": num(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in fills
        ]
    return doc


def trade_document(fill: Fill) -> dict:
    """myTrades (spot) / userTrades (USD-M) entry."""
    doc = {
        "symbol": fill.symbol,
        "id": fill.trade_id,
        "orderId": fill.order_id,
        "price": num(fill.price),
        "qty": num(fill.quantity),
        "quoteQty": num(fill.price * fill.quantity),
        "commission": num(fill.commission),
        "commissionAsset": fill.commission_asset,
        "time": fill.time_ms,
        "isMaker": fill.is_maker,
    }
    if fill.market == SPOT:
        doc.update(orderListId=-1, isBuyer=fill.side == "BUY", isBestMatch=True)
    else:
        doc.update(
            side=fill.side, buyer=fill.side == "BUY", maker=fill.is_maker,
            positionSide="BOTH", realizedPnl="0", marginAsset=fill.commission_asset,
        )  # fmt: skip
    return doc


def spot_account_document(state: AccountState, now_ms: int) -> dict:
    rate = num(SPOT_FEE)
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": rate, "taker": rate, "buyer": "0", "seller": "0"},
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": [
            {"asset": asset, "free": num(b["free"]), "locked": num(b["locked"])}
            for asset, b in sorted(state.balances.items())
        ],
        "permissions": ["SPOT"],
        "uid": 1,
    }


def position_document(symbol: str, position: Position, mark: float, now_ms: int) -> dict:
    """positionRisk entry (one-way mode)."""
    unrealized = (mark - position.entry_price) * position.amount if position.amount else 0.0
    return {
        "symbol": symbol,
        "positionAmt": num(position.amount),
        "entryPrice": num(position.entry_price),
        "breakEvenPrice": num(position.entry_price),
        "markPrice": num(mark),
        "unRealizedProfit": num(unrealized),
        "liquidationPrice": "0",
        "leverage": str(position.leverage),
        "maxNotionalValue": "1000000",
        "marginType": "cross" if position.margin_type == "CROSSED" else "isolated",
        "isolatedMargin": "0",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": num(position.amount * mark),
        "isolatedWallet": "0",
        "updateTime": position.updated_ms or now_ms,
    }


def futures_account_document(state: AccountState, positions: list[dict], now_ms: int) -> dict:
    """/fapi/v2|v3/account: wallet, margin and the open positions."""
    assets = []
    unrealized = sum(float(p["unRealizedProfit"]) for p in positions)
    for asset, wallet in sorted(state.futures_wallet.items()):
        margin = wallet + unrealized
        assets.append(
            {
                "asset": asset, "walletBalance": num(wallet), "unrealizedProfit": num(unrealized),
                "marginBalance": num(margin), "maintMargin": "0", "initialMargin": "0",
                "positionInitialMargin": "0", "openOrderInitialMargin": "0",
                "crossWalletBalance": num(wallet), "crossUnPnl": num(unrealized),
                "availableBalance": num(margin), "maxWithdrawAmount": num(margin),
                "updateTime": now_ms,
            }
        )  # fmt: skip
    total = sum(state.futures_wallet.values())
    return {
        "feeTier": 0,
        "canTrade": True,
        "totalWalletBalance": num(total),
        "totalUnrealizedProfit": num(unrealized),
        "totalMarginBalance": num(total + unrealized),
        "availableBalance": num(total + unrealized),
        "maxWithdrawAmount": num(total + unrealized),
        "assets": assets,
        "positions": positions,
        "takerCommissionRate": num(FUTURES_FEES[1]),
        "makerCommissionRate": num(FUTURES_FEES[0]),
    }
