"""A small eco-shop catalogue with opening stock, loaded idempotently."""

from __future__ import annotations

import uuid
from decimal import Decimal

from ecomarket.central.store import CentralStore
from ecomarket.schemas import MovementIn, MovementReason, ProductIn

CATALOGUE: list[tuple[int, str, str, int]] = [
    # id, name, price, opening stock per branch
    (101, "Bamboo toothbrush", "3.50", 40),
    (102, "Beeswax food wraps (3)", "12.90", 20),
    (103, "Refillable glass bottle 750 ml", "9.95", 25),
    (104, "Organic cotton tote bag", "6.00", 30),
    (105, "Solid shampoo bar", "8.40", 30),
    (106, "Compostable bin bags (20)", "4.75", 35),
    (107, "Stainless steel straw set", "7.20", 25),
    (108, "Loose-leaf green tea 100 g", "5.60", 30),
    (109, "Wooden dish brush", "6.80", 20),
    (110, "Reusable produce bags (5)", "8.00", 25),
    (111, "Natural loofah sponge", "3.20", 40),
    (112, "Castile soap refill 1 l", "11.50", 15),
]

# Opening stock has fixed movement ids, so that seeding twice moves nothing twice.
_SEED_NAMESPACE = uuid.UUID("6f1c1c2e-2d8f-4a57-9d7e-5b0a3c0f9e11")


def opening_movement_id(branch_id: str, product_id: int) -> uuid.UUID:
    """The fixed id of the opening stock of one product at one branch."""
    return uuid.uuid5(_SEED_NAMESPACE, f"opening:{branch_id}:{product_id}")


async def seed(store: CentralStore, branches: list[str]) -> tuple[int, int]:
    """Load the catalogue and opening stock; returns (products created, movements applied)."""
    created = applied = 0
    for product_id, name, price, opening in CATALOGUE:
        existing = await store.product_json(product_id)
        if existing is None:
            await store.put_product(product_id, ProductIn(name=name, price=Decimal(price)))
            created += 1
        for branch_id in branches:
            movement = MovementIn(
                movement_id=opening_movement_id(branch_id, product_id),
                branch_id=branch_id,
                product_id=product_id,
                quantity=opening,
                reason=MovementReason.RECEIVED,
            )
            result = await store.apply_movement(movement)
            applied += result.is_new
    return created, applied
