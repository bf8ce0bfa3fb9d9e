-- Create or update a product and queue the product.changed event in the same
-- step; returns 1 when created, 0 when updated. The version lets branches apply
-- changes in order whatever order the events reach them in; it outlives a
-- deletion, so that a product created again is newer than its deletion.
-- KEYS: 1 product, 2 product ids, 3 catalogue outbox, 4 stock, 5 stock totals,
--       6 below-zero set, 7 product JSON fragments.
-- ARGV: 1 product id, 2 name, 3 price in cents, 4 event body (JSON object without version).
local created = redis.call('HEXISTS', KEYS[1], 'name') == 0 and 1 or 0
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'price', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
refresh_product(KEYS[7], KEYS[1], KEYS[4], KEYS[5], KEYS[6], ARGV[1])
local event = '{"version":' .. version .. ',' .. string.sub(ARGV[4], 2)
redis.call('XADD', KEYS[3], '*', 'event', 'product.changed', 'body', event)
return created
