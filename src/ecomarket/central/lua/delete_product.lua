-- Remove a product from the catalogue and queue the product.deleted event.
-- Its stock hash stays: sales made at tills before they heard of the deletion
-- are refused as unknown product and set aside at the branch, and the history
-- of the stock is kept for the books. Its version stays too, so that a product
-- created again under the same id is newer than its deletion at every branch.
-- KEYS: 1 product, 2 product ids, 3 catalogue outbox, 4 product JSON fragments.
-- ARGV: 1 product id.
if redis.call('HEXISTS', KEYS[1], 'name') == 0 then
  return 0
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HDEL', KEYS[1], 'name', 'price')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
local event = '{"product_id":' .. ARGV[1] .. ',"version":' .. version .. '}'
redis.call('XADD', KEYS[3], '*', 'event', 'product.deleted', 'body', event)
return 1
