-- Apply one sale exactly once.
-- KEYS: 1 sale record, 2 ledger, 3 sequence, 4 counters, 5 stock totals,
--       6 below-zero set, 7 branches set, 8 product JSON fragments, then for
--       each line its product key followed by its stock key.
-- ARGV: 1 body (JSON object without sequence), 2 digest, 3 branch id,
--       4 revenue in cents, then for each line product id and quantity.
local repeat_of = seen_before(KEYS[1], ARGV[2], KEYS[4], 'duplicates_suppressed')
if repeat_of then
  return repeat_of
end

local lines = (#ARGV - 4) / 2
for i = 1, lines do
  if redis.call('HEXISTS', KEYS[7 + 2 * i], 'name') == 0 then
    return {'unknown_product', ARGV[3 + 2 * i]}
  end
end

-- A sale that happened at a till is a fact: stock is moved, never refused or clamped.
local branch = ARGV[3]
for i = 1, lines do
  local product_id = ARGV[3 + 2 * i]
  local quantity = tonumber(ARGV[4 + 2 * i])
  move_stock(KEYS[8 + 2 * i], KEYS[5], KEYS[6], product_id, branch, -quantity)
end
for i = 1, lines do
  refresh_product(KEYS[8], KEYS[7 + 2 * i], KEYS[8 + 2 * i], KEYS[5], KEYS[6], ARGV[3 + 2 * i])
end
redis.call('SADD', KEYS[7], branch)
redis.call('HINCRBY', KEYS[4], 'sales', 1)
redis.call('HINCRBY', KEYS[4], 'revenue_cents', ARGV[4])
redis.call('HINCRBY', KEYS[4], 'sales:' .. branch, 1)
return {'applied', record(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])}
