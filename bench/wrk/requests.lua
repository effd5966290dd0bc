-- wrk script: replay a file of requests, one per line, counting answers by status.
--
--   wrk -t2 -c16 -d20s -s bench/wrk/requests.lua http://127.0.0.1:8100 -- FILE THREADS
--
-- Each line of FILE is  METHOD <TAB> PATH <TAB> TOKEN <TAB> BODY  ("-" for no
-- token or no body). Thread t of THREADS takes lines t, t+THREADS, ... so no
-- line (a booking of one free slot) is sent twice while the file lasts; a
-- thread that reaches the end of its share starts it again (reads may repeat,
-- a repeated booking answers 409 and shows in the counts).
-- With WRK_OUT set, done() writes the figures there as JSON.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local lines, index = {}, 0
statuses = {}  -- global: done() reads it from each thread with thread:get

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == tid then table.insert(lines, line) end
    n = n + 1
  end
  statuses = {}
end

function request()
  index = index + 1
  if index > #lines then index = 1 end
  local f = split(lines[index])
  local headers = {}
  if f[3] ~= "-" then headers["Authorization"] = "Bearer " .. f[3] end
  local body = nil
  if f[4] ~= nil and f[4] ~= "-" then
    body = f[4]
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(f[1], f[2], headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do total[status] = (total[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(total) do table.insert(parts, string.format('"%s": %d', status, count)) end
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "statuses": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout)
  local path = os.getenv("WRK_OUT")
  if path then
    local f = io.open(path, "w")
    f:write(out)
    f:close()
  else
    print(out)
  end
end
