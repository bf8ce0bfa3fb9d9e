-- One page of the catalogue with each product's stock, as a ready JSON document
-- assembled from the fragments the writing steps keep up to date.
-- KEYS: 1 product ids, 2 stock totals, 3 below-zero set, 4 product JSON fragments.
-- ARGV: 1 product key prefix, 2 stock key prefix, 3 cursor (exclusive id, 0
-- for the first page), 4 page size, 5 a single product id or '' for a page.
local function fragment(id, stored)
  -- Data written before fragments existed is rendered on the fly.
  return stored or render_product(ARGV[1] .. id, ARGV[2] .. id, KEYS[2], KEYS[3], id)
end

if ARGV[5] ~= '' then
  return fragment(ARGV[5], redis.call('HGET', KEYS[4], ARGV[5]))
end

local limit = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf', 'LIMIT', 0, limit + 1)
local next_cursor = 'null'
if #ids > limit then
  next_cursor = '"' .. ids[limit] .. '"'
  ids[limit + 1] = nil
end
local items = {}
if #ids > 0 then
  local stored = redis.call('HMGET', KEYS[4], unpack(ids))
  for i, id in ipairs(ids) do
    items[#items + 1] = fragment(id, stored[i])
  end
end
return '{"items":[' .. table.concat(items, ',') .. '],"next_cursor":' .. next_cursor .. '}'
