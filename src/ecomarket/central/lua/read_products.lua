-- One page of the catalogue with each product's stock, as a ready JSON document.
-- KEYS: 1 product ids, 2 stock totals, 3 below-zero set.
-- ARGV: 1 product key prefix, 2 stock key prefix, 3 cursor (exclusive id, 0
-- for the first page), 4 page size, 5 a single product id or '' for a page.
local function money(cents)
  cents = tonumber(cents)
  return string.format('%d.%02d', math.floor(cents / 100), cents % 100)
end

local function product_json(id)
  local fields = redis.call('HMGET', ARGV[1] .. id, 'name', 'price', 'version')
  if not fields[1] then
    return nil
  end
  local pairs_ = redis.call('HGETALL', ARGV[2] .. id)
  local parts = {}
  for i = 1, #pairs_, 2 do
    parts[#parts + 1] = cjson.encode(pairs_[i]) .. ':' .. pairs_[i + 1]
  end
  local total = redis.call('HGET', KEYS[2], id) or '0'
  local below = redis.call('SISMEMBER', KEYS[3], id) == 1 and 'true' or 'false'
  return '{"id":' .. id .. ',"name":' .. cjson.encode(fields[1]) .. ',"price":"'
    .. money(fields[2]) .. '","version":' .. (fields[3] or '0') .. ',"stock":{"total":' .. total .. ',"branches":{'
    .. table.concat(parts, ',') .. '}},"below_zero":' .. below .. '}'
end

if ARGV[5] ~= '' then
  return product_json(ARGV[5])
end

local limit = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf', 'LIMIT', 0, limit + 1)
local items = {}
local next_cursor = 'null'
for i, id in ipairs(ids) do
  if i > limit then
    next_cursor = '"' .. ids[i - 1] .. '"'
    break
  end
  items[#items + 1] = product_json(id)
end
return '{"items":[' .. table.concat(items, ',') .. '],"next_cursor":' .. next_cursor .. '}'
