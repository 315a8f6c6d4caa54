-- Requests for wrk, configured by the environment:
--   BENCH_PATHS   space-separated paths, cycled; "POST:/path" posts BENCH_BODY
--   BENCH_BODY    the form body of a POST (application/x-www-form-urlencoded)
--   BENCH_COOKIE  the Cookie header (a signed-in session)
--   BENCH_HEADER  one more header, "Name: value" (the poll's key)
--   BENCH_FRESH   connections per wrk thread, whose first request goes without the pause
--   BENCH_FILE    instead of the above, a file of requests (see below)
--   BENCH_DELAY_MS  a pause before each request of a connection (a person's think time; 0: none)
-- At the end, one line "BENCH_JSON {...}" with the counts and latency percentiles.

local entries = {}
local body = os.getenv("BENCH_BODY") or ""
local cookie = os.getenv("BENCH_COOKIE") or ""
local extra = os.getenv("BENCH_HEADER") or ""
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
local listed = os.getenv("BENCH_FILE") or ""
if listed ~= "" then
  -- One request per line: method, path, cookie, header, body, tab-separated
  -- (many people, each with a session of their own).
  for line in io.lines(listed) do
    local method, path, own_cookie, header, own_body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    table.insert(entries, {method = method, path = path, cookie = own_cookie, header = header, body = own_body})
  end
else
  for item in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
    local method, path = "GET", item
    if string.sub(item, 1, 5) == "POST:" then
      method, path = "POST", string.sub(item, 6)
    end
    table.insert(entries, {method = method, path = path, cookie = cookie, header = extra, body = body})
  end
end

local prepared = {}
for i, entry in ipairs(entries) do
  local headers = {}
  if entry.cookie ~= "" then headers["Cookie"] = entry.cookie end
  if entry.header ~= "" then
    local name, value = string.match(entry.header, "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  if entry.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    prepared[i] = wrk.format("POST", entry.path, headers, entry.body)
  else
    prepared[i] = wrk.format("GET", entry.path, headers)
  end
end

local counter = 0
local fresh = tonumber(os.getenv("BENCH_FRESH") or "0") or 0
if pause > 0 then
  -- Each connection waits about ``pause`` ms (give or take half) before each
  -- request, so that connections do not fall into step. wrk waits after
  -- connecting, where a browser would send its request at once: the first
  -- request of each of the thread's ``BENCH_FRESH`` connections goes
  -- without waiting, and the pauses then fall on kept-alive connections.
  delay = function()
    if fresh > 0 then
      fresh = fresh - 1
      return 0
    end
    return math.floor(pause * (0.5 + math.random()))
  end
end
request = function()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end

done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
