"""How a house account names what we send it: its SKU mappings and ship profiles.

A SKU mapping sends a product under the code the house knows it by. A fulfillment ships by
the ship profile of its first product that has one of this account, else the account's
default profile; the profile gives the house's code for the service and its carrier. Push
dispatch (``dispatch._payloads``, beside this module) and what pull houses are served read
the same terms.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Product, ShipProfile, SkuMapping


@dataclass(frozen=True)
class Terms:
    """The terms for one batch of fulfillments, read in three queries whatever its size."""

    account_of: dict[int, int]
    house_skus: dict[tuple[int, str], str]
    profiles: dict[int, object]

    def sku(self, fulfillment_id: int, sku: str) -> str:
        """The code the fulfillment's house knows our ``sku`` by."""
        return self.house_skus.get((self.account_of[fulfillment_id], sku), sku)

    def ship_method(self, fulfillment_id: int, method: str, carrier: str) -> tuple[str, str]:
        """(the house's ship code, carrier) for the fulfillment; the record's own ship
        method and carrier when no profile applies."""
        profile = self.profiles.get(fulfillment_id)
        return (profile.house_code, profile.carrier) if profile else (method, carrier)


def terms_for(account_of: dict[int, int], items) -> Terms:
    """The terms for fulfillments ``account_of`` (id → house account id) and their
    ``items`` (rows with ``fulfillment_id``, ``product_id`` and ``sku``, in line order)."""
    accounts = set(account_of.values())
    house_skus = {(m.house_account_id, m.product_sku): m.house_sku for m in db.session.execute(
        select(SkuMapping.house_account_id, SkuMapping.product_sku, SkuMapping.house_sku)
        .where(SkuMapping.house_account_id.in_(accounts),
               SkuMapping.product_sku.in_({item.sku for item in items})))}
    profiles = {p.id: p for p in db.session.execute(
        select(ShipProfile.id, ShipProfile.house_account_id, ShipProfile.house_code,
               ShipProfile.carrier, ShipProfile.is_default)
        .where(ShipProfile.house_account_id.in_(accounts)))}
    defaults = {p.house_account_id: p for p in profiles.values() if p.is_default}
    product_profile = dict(db.session.execute(
        select(Product.id, Product.ship_profile_id)
        .where(Product.id.in_({item.product_id for item in items}),
               Product.ship_profile_id.is_not(None))).all()) if profiles else {}
    chosen: dict[int, object] = {}
    for item in items:
        own = profiles.get(product_profile.get(item.product_id))
        if item.fulfillment_id not in chosen and own is not None \
                and own.house_account_id == account_of[item.fulfillment_id]:
            chosen[item.fulfillment_id] = own
    for fid, account in account_of.items():
        if fid not in chosen and account in defaults:
            chosen[fid] = defaults[account]
    return Terms(account_of=account_of, house_skus=house_skus, profiles=chosen)


def served(rows: list[dict], items) -> Terms:
    """What a pull house is served: sets ``ship_method`` and ``carrier`` of the fulfillment
    ``rows`` (dicts with ``id``, ``house_account_id``) to the house's, and returns the
    terms, whose ``sku`` gives each of ``items``' house SKU."""
    terms = terms_for({row["id"]: row["house_account_id"] for row in rows}, items)
    for row in rows:
        row["ship_method"], row["carrier"] = terms.ship_method(
            row["id"], row["ship_method"], row["carrier"])
    return terms
