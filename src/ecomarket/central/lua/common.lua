-- Helpers prepended to every script of this folder (see store.py).
-- A record is a hash with the first answer given for its id ("body") and a
-- digest of the request that produced it, so that a repeat can be told apart
-- from a different request reusing the same id.

-- Repeats are counted in `duplicate_field` of the counters, so that each kind of
-- record (sales, customers, dead letters, ...) has its own figure.
local function seen_before(record_key, digest, counters_key, duplicate_field)
  local stored = redis.call('HMGET', record_key, 'body', 'digest')
  if not stored[1] then
    return nil
  end
  if stored[2] ~= digest then
    return {'conflict', stored[1]}
  end
  redis.call('HINCRBY', counters_key, duplicate_field, 1)
  return {'duplicate', stored[1]}
end

-- Store the first answer, with its ledger sequence number spliced in front of the
-- body that the caller built (a JSON object, so it starts with '{').
local function record(record_key, ledger_key, seq_key, body, digest)
  local seq = redis.call('INCR', seq_key)
  local full = '{"sequence":' .. seq .. ',' .. string.sub(body, 2)
  redis.call('HSET', record_key, 'body', full, 'digest', digest)
  redis.call('ZADD', ledger_key, seq, string.match(record_key, '[^:]+$'))
  return full
end

-- Move the stock of one product at one branch and keep the chain total and
-- the below-zero flag in step with it.
local function move_stock(stock_key, total_key, below_zero_key, product_id, branch, delta)
  local level = redis.call('HINCRBY', stock_key, branch, delta)
  redis.call('HINCRBY', total_key, product_id, delta)
  if level < 0 then
    redis.call('SADD', below_zero_key, product_id)
  elseif delta > 0 and redis.call('SISMEMBER', below_zero_key, product_id) == 1 then
    local still_below = false
    for _, v in ipairs(redis.call('HVALS', stock_key)) do
      if tonumber(v) < 0 then still_below = true break end
    end
    if not still_below then redis.call('SREM', below_zero_key, product_id) end
  end
end

-- Reads serve each product as a ready JSON fragment, kept in one hash and rebuilt
-- by every step that changes the product or its stock. A page of the catalogue
-- then costs one HMGET; rebuilding one fragment costs a sale line a few calls.
local function money(cents)
  cents = tonumber(cents)
  return string.format('%d.%02d', math.floor(cents / 100), cents % 100)
end

local function render_product(product_key, stock_key, totals_key, below_zero_key, product_id)
  local fields = redis.call('HMGET', product_key, 'name', 'price', 'version')
  if not fields[1] then
    return nil
  end
  local levels = redis.call('HGETALL', stock_key)
  local parts = {}
  for i = 1, #levels, 2 do
    parts[#parts + 1] = cjson.encode(levels[i]) .. ':' .. levels[i + 1]
  end
  local total = redis.call('HGET', totals_key, product_id) or '0'
  local below = redis.call('SISMEMBER', below_zero_key, product_id) == 1 and 'true' or 'false'
  return '{"id":' .. product_id .. ',"name":' .. cjson.encode(fields[1]) .. ',"price":"'
    .. money(fields[2]) .. '","version":' .. (fields[3] or '0') .. ',"stock":{"total":'
    .. total .. ',"branches":{' .. table.concat(parts, ',') .. '}},"below_zero":' .. below .. '}'
end

local function refresh_product(json_key, product_key, stock_key, totals_key, below_zero_key, id)
  local fragment = render_product(product_key, stock_key, totals_key, below_zero_key, id)
  if fragment then
    redis.call('HSET', json_key, id, fragment)
  else
    redis.call('HDEL', json_key, id)
  end
end
