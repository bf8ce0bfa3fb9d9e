"""Every Redis key, exchange and queue name EcoMarket uses, in one place.

Other systems integrate against the exchange names, so they are part of the
contract documented in the README; change them only with a migration.
"""

from __future__ import annotations

# --- Redis keys of the central ------------------------------------------------
# Everything lives under one prefix so that a shared Redis database can be
# inspected (and cleaned by tests) without touching anyone else's keys.
PREFIX = "eco:"

PRODUCT = PREFIX + "product:"  # hash per product: name, price (cents)
PRODUCT_IDS = PREFIX + "products"  # sorted set of product ids, score = id, for paging
STOCK = PREFIX + "stock:"  # hash per product: branch id -> quantity
STOCK_TOTAL = PREFIX + "stock-total"  # hash: product id -> chain total
PRODUCT_JSON = PREFIX + "product-json"  # hash: product id -> the product as reads serve it
BELOW_ZERO = PREFIX + "below-zero"  # set of product ids with a branch below zero
BRANCHES = PREFIX + "branches"  # set of branch ids seen in stock, sales or settings

SALE = PREFIX + "sale:"  # string per sale id: the stored first answer (JSON)
SALE_LEDGER = PREFIX + "ledger"  # sorted set: sale id, score = ledger sequence number
SALE_SEQ = PREFIX + "seq:sale"

MOVEMENT = PREFIX + "movement:"  # string per movement id: the stored first answer (JSON)
MOVEMENT_LEDGER = PREFIX + "movements"
BRANCH_MOVEMENT_LEDGER = PREFIX + "movements:branch:"  # + branch id: that branch's movements
MOVEMENT_SEQ = PREFIX + "seq:movement"

CUSTOMER = PREFIX + "customer:"  # string per customer id (JSON)
CUSTOMER_LEDGER = PREFIX + "customers"
CUSTOMER_SEQ = PREFIX + "seq:customer"

NOTIFICATION = PREFIX + "notification:"  # string per customer id: welcome message recorded
NOTIFICATION_LEDGER = PREFIX + "notifications"
NOTIFICATION_SEQ = PREFIX + "seq:notification"
CUSTOMER_STATS_SEEN = PREFIX + "stats:customer-seen:"  # marker per customer id counted

DEAD_LETTER = PREFIX + "dead:"  # hash per dead-lettered message
DEAD_LETTER_LEDGER = PREFIX + "dead-letters"
DEAD_LETTER_SEQ = PREFIX + "seq:dead"

IDEMPOTENCY = PREFIX + "idem:"  # string per Idempotency-Key: stored first answer
# Catalogue events written in the same atomic step as the change they describe, then
# relayed to CATALOGUE_EXCHANGE by the instances (a transactional outbox in Redis).
CATALOGUE_OUTBOX = PREFIX + "outbox:catalogue"  # stream: fields event, body
CATALOGUE_RELAY_GROUP = "relay"
COUNTERS = PREFIX + "counters"  # hash of chain-wide counters, see COUNTER_* below
INSTANCE_COUNTERS = PREFIX + "instance-counters:"  # hash per instance: requests, applied, ...
INSTANCE_HEARTBEAT = PREFIX + "instances"  # sorted set: instance -> last heartbeat (unix s)

SALES_QUEUE_LIST = PREFIX + "queue:sales"  # delivery mode 4: the Redis list branches push to
SALES_QUEUE_PROCESSING = PREFIX + "queue:sales:processing:"  # per-instance list being worked
SALES_QUEUE_PROCESSORS = PREFIX + "queue:sales:processors"  # set: instances with such a list

COUNTER_SALES = "sales"
COUNTER_REVENUE = "revenue_cents"
COUNTER_DUPLICATES = "duplicates_suppressed"
COUNTER_CUSTOMERS = "customers"
COUNTER_MOVEMENTS = "movements"
COUNTER_CUSTOMERS_COUNTED = "customers_counted"  # the statistics consumer's own count
COUNTER_NOTIFICATIONS = "notifications"
COUNTER_DEAD_LETTERS = "dead_letters"

# --- RabbitMQ -------------------------------------------------------------------
SALES_EXCHANGE = "ecomarket.sales"  # fanout: one message per sale
SALES_DIRECT_EXCHANGE = "ecomarket.sales.direct"  # direct, routing key SALES_DIRECT_KEY
SALES_DIRECT_KEY = "central"
CUSTOMERS_EXCHANGE = "ecomarket.customers"  # fanout: customer.registered
CATALOGUE_EXCHANGE = "ecomarket.catalogue"  # fanout: product changes, stock movements
DEAD_EXCHANGE = "ecomarket.dead"  # fanout: what could not be applied, with the reason

CENTRAL_SALES_QUEUE = "central.sales"  # shared quorum queue of the central's group
CENTRAL_SALES_BROADCAST_QUEUE = "central.sales."  # + instance, broadcast layout
NOTIFICATIONS_QUEUE = "central.notifications"
STATISTICS_QUEUE = "central.statistics"
DEAD_QUEUE = "central.dead"
BRANCH_CATALOGUE_QUEUE = "branch.catalogue."  # + branch id

EVENT_CUSTOMER_REGISTERED = "customer.registered"
EVENT_PRODUCT_CHANGED = "product.changed"
EVENT_PRODUCT_DELETED = "product.deleted"
EVENT_STOCK_MOVED = "stock.moved"

# --- Event bus additions ----------------------------------------------------------
CUSTOMER_STATS_LEDGER = PREFIX + "stats:customers"  # the statistics consumer's own ledger
CUSTOMER_STATS_SEQ = PREFIX + "seq:stats-customer"
DEAD_LETTER_REPLAYED = PREFIX + "dead-replayed"  # hash: dead letter id -> when replayed

# --- Branch delivery mode 4 ---------------------------------------------------------
SALES_QUEUE_DEAD = PREFIX + "queue:sales:dead"  # items the drain could not apply, with reason
