"""Placing an order: one fulfillment per house account among its shippable items, each in
Hold with its first event, all in one transaction."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from dashboard import status as rules
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import Fulfillment, FulfillmentItem, HouseAccount, Order, OrderItem, Product
from dashboard.services.queue import enqueue_dispatch


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity: int


def place_order(customer: dict[str, str], lines: list[Line], *, actor: str,
                source: str = "order_entry") -> Order:
    """Create the order, its items and its Hold fulfillments, and commit once.

    Items with no house account get no fulfillment; the order page says so. The
    fulfillment's due time honours the largest extra hold delay among its products.
    """
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_([line.product_id for line in lines])))}
    at = now()
    order = Order(**customer, created_at=at, updated_at=at, created_by=actor)
    db.session.add(order)
    by_account: dict[int, list[OrderItem]] = defaultdict(list)
    total = Decimal("0")
    for line in lines:
        product = products[line.product_id]
        item = OrderItem(order=order, product_id=product.id, name=product.name, sku=product.sku,
                         quantity=line.quantity, price=product.price, shippable=product.shippable)
        db.session.add(item)
        total += product.price * line.quantity
        if product.shippable and product.house_account_id:
            by_account[product.house_account_id].append(item)
    order.total = total
    db.session.flush()

    fulfillments = []
    for account_id, items in by_account.items():
        delay = max(products[i.product_id].hold_delay_hours for i in items)
        fulfillment = Fulfillment(reference=Fulfillment.new_reference(), order_id=order.id,
                                  house_account_id=account_id,
                                  due_at=at + timedelta(hours=delay), created_at=at,
                                  updated_at=at)
        fulfillments.append((fulfillment, items, delay))
    rules.create([(f, "Order placed; waits for dispatch"
                   + (f" ({d} h product hold delay)." if d else "."))
                  for f, _items, d in fulfillments], source=source, actor=actor, at=at)
    for fulfillment, items, _delay in fulfillments:
        for item in items:
            item.fulfillment_id = fulfillment.id
            db.session.add(FulfillmentItem(fulfillment_id=fulfillment.id, order_item_id=item.id,
                                           product_id=item.product_id, name=item.name,
                                           sku=item.sku, quantity=item.quantity,
                                           price=item.price))
    db.session.commit()
    _send_at_once([f for f, _i, d in fulfillments if d == 0])
    return order


def _send_at_once(fulfillments: list[Fulfillment]) -> None:
    """Queue an immediate dispatch for accounts that send as soon as an order is placed."""
    if not fulfillments:
        return
    immediate = set(db.session.scalars(select(HouseAccount.id).where(
        HouseAccount.id.in_({f.house_account_id for f in fulfillments}),
        HouseAccount.send_immediately, HouseAccount.active)))
    ids = [f.id for f in fulfillments if f.house_account_id in immediate]
    if ids:
        enqueue_dispatch(fulfillment_ids=ids)
