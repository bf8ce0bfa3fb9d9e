-- Record an event (a customer, a welcome message, ...) exactly once and count it.
-- KEYS: 1 record, 2 ledger, 3 sequence, 4 counters.
-- ARGV: 1 body (JSON object without sequence), 2 digest, 3 counter field.
-- Repeats are counted apart from the sales' duplicates_suppressed, as '<counter>_duplicates'.
local repeat_of = seen_before(KEYS[1], ARGV[2], KEYS[4], ARGV[3] .. '_duplicates')
if repeat_of then
  return repeat_of
end
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
return {'applied', record(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])}
