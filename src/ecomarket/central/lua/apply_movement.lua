-- Apply one stock movement exactly once.
-- KEYS: 1 movement record, 2 movement ledger, 3 sequence, 4 counters,
--       5 stock totals, 6 below-zero set, 7 branches set, 8 product, 9 stock,
--       10 catalogue outbox (the stock.moved event for the branch goes there),
--       11 the branch's own movement ledger (what a branch replays when it starts),
--       12 product JSON fragments.
-- ARGV: 1 body (JSON object without sequence), 2 digest, 3 branch id,
--       4 product id, 5 signed quantity.
local repeat_of = seen_before(KEYS[1], ARGV[2], KEYS[4], 'duplicates_suppressed')
if repeat_of then
  return repeat_of
end
if redis.call('HEXISTS', KEYS[8], 'name') == 0 then
  return {'unknown_product', ARGV[4]}
end

move_stock(KEYS[9], KEYS[5], KEYS[6], ARGV[4], ARGV[3], tonumber(ARGV[5]))
refresh_product(KEYS[12], KEYS[8], KEYS[9], KEYS[5], KEYS[6], ARGV[4])
redis.call('SADD', KEYS[7], ARGV[3])
redis.call('HINCRBY', KEYS[4], 'movements', 1)
local stored = record(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[11], redis.call('GET', KEYS[3]), string.match(KEYS[1], '[^:]+$'))
redis.call('XADD', KEYS[10], '*', 'event', 'stock.moved', 'body', stored)
return {'applied', stored}
