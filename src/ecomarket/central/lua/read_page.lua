-- One page of a ledger, newest first, as a ready JSON document, so that the
-- cost is the page's and the caller does no per-item work.
-- KEYS: 1 ledger. ARGV: 1 record key prefix, 2 cursor (exclusive; '+inf' for
-- the first page), 3 page size.
local limit = tonumber(ARGV[3])
local top = ARGV[2] == '+inf' and '+inf' or '(' .. ARGV[2]
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], top, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
local bodies = {}
local next_cursor = 'null'
for i = 1, #ids, 2 do
  if (i + 1) / 2 > limit then
    next_cursor = '"' .. ids[i - 1] .. '"'
    break
  end
  bodies[#bodies + 1] = redis.call('HGET', ARGV[1] .. ids[i], 'body')
end
return '{"items":[' .. table.concat(bodies, ',') .. '],"next_cursor":' .. next_cursor .. '}'
